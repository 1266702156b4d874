#!/bin/bash
# Interop matrix: swanling against strongSwan 5.9.8 charon (kernel-libipsec,
# userspace ESP in UDP), in network namespaces this script creates.
#
#   swl-sw-<id>: swanling,   outer 192.0.2.1, inner 198.51.100.1 (on lo)
#   swl-ss-<id>: strongSwan, outer 192.0.2.2, inner 203.0.113.1  (on lo)
#   swl-a-<id>, swl-b-<id>: the same addresses, for swanling against
#   swanling and for the strongSwan-to-strongSwan reference row.
#
# strongSwan cells: swanling as initiator or responder, PSK or public keys
# (Ed25519, RFC 7427), AES-GCM or ChaCha20-Poly1305 (IKE and ESP), ECP-256,
# Curve25519 or MODP-2048. In every cell the tunnel comes up, ping passes
# both ways, iperf3 runs 3 s through it, and a Delete from one side
# (swanling on shutdown, or swanctl --terminate) tears down both. By default
# 12 cells cover every value of every axis in both roles; FULL=1 runs all 24;
# two more use ECDSA P-256 keys instead of Ed25519.
# Then two rekeying cells (pings every 50 ms while one side rekeys; not one
# may be lost), swanling against swanling (PSK, Ed25519, AUTH_NULL of
# RFC 7619, each with another cipher and group), and strongSwan against
# strongSwan as the reference.
#
# Knobs: CELL="ROLE AUTH AEAD DH" runs one strongSwan cell only;
# DELETER=swanling|strongSwan picks the side that deletes; MATRIX=0,
# REKEY=0, SWSW=0, REF=0 leave out the strongSwan matrix, the rekeying
# cells, the swanling-swanling cells, the reference row; SWANLING_BIN=path
# tests a prebuilt binary; KEEP=1 keeps the work directory (logs).
#
# Needs root, strongswan-charon, strongswan-swanctl, libcharon-extra-plugins,
# libstrongswan-standard-plugins, iperf3 and Go. Prints
# "N passed, N failed" last; exits non-zero when a cell failed.
# Namespaces and processes are removed on any exit.
set -uo pipefail
cd "$(dirname "$0")/.."
export PATH=/usr/local/go/bin:/usr/local/sbin:/usr/sbin:/sbin:$PATH

if [ "$(id -u)" -ne 0 ]; then
	echo "t-interop-strongswan: needs root: skipped"
	echo "0 passed, 0 failed"
	exit 0
fi
CHARON=/usr/lib/ipsec/charon
for tool in "$CHARON" swanctl iperf3 ip unshare go; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "t-interop-strongswan: $tool missing (scripts/install-deps.sh installs it)" >&2
		echo "0 passed, 1 failed"
		exit 1
	fi
done

ID=$$
NS_SW=swl-sw-$ID
NS_SS=swl-ss-$ID
NS_A=swl-a-$ID
NS_B=swl-b-$ID
WORK=$(mktemp -d /tmp/swl-interop.XXXXXX)
SSDIR=$WORK/ss
PIDS=()
PSK="interop-matrix-shared-key-0123456789"

cleanup() {
	local p
	for p in "${PIDS[@]}"; do
		kill -TERM "$p" 2>/dev/null
	done
	for _ in $(seq 40); do
		local alive=0
		for p in "${PIDS[@]}"; do
			kill -0 "$p" 2>/dev/null && alive=1
		done
		[ $alive -eq 0 ] && break
		sleep 0.1
	done
	for p in "${PIDS[@]}"; do
		kill -KILL "$p" 2>/dev/null
	done
	for ns in "$NS_SW" "$NS_SS" "$NS_A" "$NS_B"; do
		ip netns del "$ns" 2>/dev/null
	done
	if [ "${KEEP:-0}" = 1 ]; then
		echo "t-interop-strongswan: logs kept in $WORK"
	else
		rm -rf "$WORK"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log() { echo "t-interop-strongswan: $*"; }

waitfor() { # seconds command...
	local n=$(($1 * 10))
	shift
	for _ in $(seq "$n"); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}

stopped() { ! kill -0 "$1" 2>/dev/null; }

# stop PID: SIGTERM, then SIGKILL after 5 s.
stop() {
	kill -TERM "$1" 2>/dev/null
	waitfor 5 stopped "$1" || kill -KILL "$1" 2>/dev/null
}

# ---- build and keys ----
if [ -n "${SWANLING_BIN:-}" ]; then
	cp "$SWANLING_BIN" "$WORK/swanling"
elif ! go build -o "$WORK/swanling" . 2>"$WORK/build.log"; then
	cat "$WORK/build.log" >&2
	echo "0 passed, 1 failed"
	exit 1
fi
keypair() { # name [type]: $WORK/name.key (PKCS#8 PEM), .pub (PEM SPKI), .b64 (SPKI base64)
	"$WORK/swanling" genkey -t "${2:-ed25519}" -o "$WORK/$1.key" >"$WORK/$1.genkey" || return 1
	sed -n 's/^peer_pubkey = "\(.*\)"$/\1/p' "$WORK/$1.genkey" >"$WORK/$1.b64"
	{
		echo "-----BEGIN PUBLIC KEY-----"
		fold -w 64 "$WORK/$1.b64"
		echo
		echo "-----END PUBLIC KEY-----"
	} | grep -v '^$' >"$WORK/$1.pub"
}
for k in sw swb ss ssa; do keypair $k; done
keypair sw-ec ecdsa-p256
keypair ss-ec ecdsa-p256

# ---- namespaces: pair NS1 NS2 (192.0.2.1 + 198.51.100.1, 192.0.2.2 + 203.0.113.1) ----
pair() {
	ip netns add "$1" && ip netns add "$2" || return 1
	ip -n "$1" link add eth0 type veth peer name eth0 netns "$2"
	ip -n "$1" addr add 192.0.2.1/24 dev eth0
	ip -n "$2" addr add 192.0.2.2/24 dev eth0
	for ns in "$1" "$2"; do
		ip -n "$ns" link set lo up
		ip -n "$ns" link set eth0 up
	done
	ip -n "$1" addr add 198.51.100.1/32 dev lo
	ip -n "$2" addr add 203.0.113.1/32 dev lo
}
pair "$NS_SW" "$NS_SS" || exit 1

# ---- strongSwan instances ----
# start_charon NS DIR KEYNAME PEERKEYNAME: a charon in NS with its files in
# DIR (bind-mounted on /run in a private mount namespace, as 5.9.8 writes
# /run/charon.pid); prints its PID.
start_charon() {
	local ns=$1 dir=$2
	mkdir -p "$dir/run" "$dir"/swanctl/{x509,x509ca,x509aa,x509ocsp,x509crl,x509ac,private,pubkey,rsa,ecdsa,pkcs8,pkcs12,conf.d,bliss}
	cp "$WORK/$3.key" "$dir/swanctl/private/own.key"
	cp "$WORK/$3.pub" "$dir/swanctl/pubkey/own.pub"
	cp "$WORK/$4.pub" "$dir/swanctl/pubkey/peer.pub"
	# ECDSA P-256 keys for the "ecdsa" cells.
	cp "$WORK/ss-ec.key" "$dir/swanctl/private/own-ec.key"
	cp "$WORK/ss-ec.pub" "$dir/swanctl/pubkey/own-ec.pub"
	cp "$WORK/sw-ec.pub" "$dir/swanctl/pubkey/peer-ec.pub"
	sed "s|@DIR@|$dir|g" scripts/interop/strongswan.conf.in >"$dir/strongswan.conf"
	STRONGSWAN_CONF=$dir/strongswan.conf ip netns exec "$ns" unshare -m --propagation private \
		sh -c "mount --bind '$dir/run' /run && exec $CHARON" >"$dir/charon.out" 2>&1 &
	local pid=$!
	waitfor 10 test -S "$dir/charon.vici" || return 1
	echo $pid
}
# swctl DIR args...: swanctl against the charon of DIR.
swctl() {
	local dir=$1
	shift
	STRONGSWAN_CONF=$dir/strongswan.conf SWANCTL_DIR=$dir/swanctl swanctl "$@" --uri "unix://$dir/charon.vici"
}
ss_child_up() { swctl "$1" --list-sas --ike sw 2>/dev/null | grep -q "INSTALLED"; }
ss_no_sa() { ! swctl "$1" --list-sas --ike sw 2>/dev/null | grep -q "ESTABLISHED"; }

# ss_conf DIR SIDE(a|b) AUTH IKE ESP: write and load swanctl.conf.
ss_conf() {
	local dir=$1 side=$2 auth=$3 ike=$4 esp=$5 la ra lid rid lts rts keys=""
	if [ "$side" = b ]; then
		la=192.0.2.2 ra=192.0.2.1 lid=b.test rid=a.test lts=203.0.113.0/24 rts=198.51.100.0/24
	else
		la=192.0.2.1 ra=192.0.2.2 lid=a.test rid=b.test lts=198.51.100.0/24 rts=203.0.113.0/24
	fi
	local lk="" pk=""
	if [ "$auth" = pubkey ]; then lk="pubkeys = own.pub" pk="pubkeys = peer.pub"; fi
	if [ "$auth" = ecdsa ]; then auth=pubkey lk="pubkeys = own-ec.pub" pk="pubkeys = peer-ec.pub"; fi
	sed -e "s|@LOCALADDR@|$la|" -e "s|@REMOTEADDR@|$ra|" -e "s|@LOCALID@|$lid|" -e "s|@REMOTEID@|$rid|" \
		-e "s|@LOCALTS@|$lts|" -e "s|@REMOTETS@|$rts|" -e "s|@IKE@|$ike|" -e "s|@ESP@|$esp|" \
		-e "s|@AUTH@|$auth|g" -e "s|@LOCALKEY@|$lk|" -e "s|@PEERKEY@|$pk|" \
		-e "s|@REKEY@|${SS_REKEY:-0}|" -e "s|@IKEREKEY@|${SS_IKEREKEY:-0}|" -e "s|@LIFE@|${SS_LIFE:-0}|" \
		-e "s|@DPD@|${SS_DPD:-0}|" \
		scripts/interop/swanctl.conf.in >"$dir/swanctl/swanctl.conf"
	swctl "$dir" --load-all >"$dir/load.log" 2>&1
}

# ---- swanling instances ----
# sw_conf OUT SIDE(a|b) AUTH IKE ESP START KEYNAME PEERKEYNAME: write a
# swanling configuration.
sw_conf() {
	local out=$1 side=$2 auth=$3 ike=$4 esp=$5 start=$6 la pa lid rid lts rts
	if [ "$side" = b ]; then
		la=192.0.2.2 pa=192.0.2.1 lid=@b.test rid=@a.test lts=203.0.113.0/24 rts=198.51.100.0/24
	else
		la=192.0.2.1 pa=192.0.2.2 lid=@a.test rid=@b.test lts=198.51.100.0/24 rts=203.0.113.0/24
	fi
	local idline="id = \"$lid\"" idlines="local_id = \"$lid\"\\nremote_id = \"$rid\""
	local keyline="" peerline="psk = \"$PSK\""
	case $auth in
	pubkey)
		keyline="key_file = \"$WORK/$7.key\""
		peerline="peer_pubkey = \"$(cat "$WORK/$8.b64")\""
		;;
	ecdsa)
		auth=pubkey
		keyline="key_file = \"$WORK/sw-ec.key\""
		# The key as a PEM file (the inline base64 form is exercised by
		# the Ed25519 cells).
		peerline="peer_pubkey = \"$WORK/ss-ec.pub\""
		;;
	null) idline="" idlines="" peerline="" ;;
	esac
	sed -e "s|@LOCALADDR@|$la|g" -e "s|@PEERADDR@|$pa|" -e "s|@LOCALIDLINE@|$idline|" -e "s|@IDLINES@|$idlines|" \
		-e "s|@LOCALTS@|$lts|" -e "s|@REMOTETS@|$rts|" -e "s|@IKE@|$ike|" -e "s|@ESP@|$esp|" \
		-e "s|@AUTH@|$auth|" -e "s|@START@|$start|" -e "s|@KEYLINE@|$keyline|" -e "s|@PEERLINE@|$peerline|" \
		-e "s|@REKEYLINES@|${SW_REKEYLINES:-}|" -e "s|@DPD@|${SW_DPD:-0s}|" scripts/interop/swanling.toml.in >"$out"
}
# start_swanling NS DIR: runs DIR/swanling.toml; prints its PID.
start_swanling() {
	ip netns exec "$1" "$WORK/swanling" run -c "$2/swanling.toml" -control "$2/control.sock" >"$2/swanling.log" 2>&1 &
	echo $!
}
sw_status() { ip netns exec "$1" "$WORK/swanling" status -json -control "$2/control.sock" 2>/dev/null; }
sw_child_up() { sw_status "$1" "$2" | grep -q '"spi_out": "[0-9a-f]'; }
# The daemon answers and lists neither IKE nor Child SAs.
sw_all_gone() {
	local st
	st=$(sw_status "$1" "$2") || return 1
	! grep -q '"state"\|"spi_in": "[0-9a-f]' <<<"$st"
}

# traffic NSA NSB DIR: ping both ways and iperf3 for 3 s from NSA to NSB;
# sets why on failure and mbit.
traffic() {
	ip netns exec "$1" ping -c 3 -i 0.2 -W 2 -I 198.51.100.1 203.0.113.1 >"$3/ping-ab.log" 2>&1 ||
		{ why="ping 198.51.100.1 -> 203.0.113.1 failed"; return 1; }
	ip netns exec "$2" ping -c 3 -i 0.2 -W 2 -I 203.0.113.1 198.51.100.1 >"$3/ping-ba.log" 2>&1 ||
		{ why="ping 203.0.113.1 -> 198.51.100.1 failed"; return 1; }
	ip netns exec "$2" iperf3 -s -1 -B 203.0.113.1 >"$3/iperf-server.log" 2>&1 &
	local ipid=$!
	PIDS+=($ipid)
	local try
	for try in 1 2 3; do
		sleep 0.3
		ip netns exec "$1" timeout 20 iperf3 -c 203.0.113.1 -B 198.51.100.1 -t 3 -f m >"$3/iperf.log" 2>&1 && break
		# The server may not listen yet.
		[ $try = 3 ] && { kill "$ipid" 2>/dev/null; why="iperf3 failed"; return 1; }
	done
	mbit=$(awk '/receiver/ {print $(NF-2)}' "$3/iperf.log" | tail -1)
	kill "$ipid" 2>/dev/null
	return 0
}

passed=0
failed=0
cell_no=0

# A cell that fails is run once more (a loaded CI machine can lose a ping
# or time out an iperf3); the second result counts. attempt marks the
# first try with TRY=1.
CELL_RETRY=0
attempt() {
	TRY=1 "$@"
	if [ "$CELL_RETRY" = 1 ]; then
		CELL_RETRY=0
		TRY=2 "$@"
	fi
}

result() { # ok name details logfiles...
	local ok=$1 name=$2 details=$3
	shift 3
	if [ "$ok" = 1 ]; then
		passed=$((passed + 1))
		local note=""
		[ "${TRY:-}" = 2 ] && note=" on the second try"
		log "PASS $name ($details)$note"
		return
	fi
	if [ "${TRY:-}" = 1 ]; then
		CELL_RETRY=1
		log "RETRY $name: $why"
	else
		failed=$((failed + 1))
		log "FAIL $name: $why"
	fi
	local f
	for f in "$@"; do
		echo "--- $f (last 25 lines)"
		tail -25 "$f"
	done
}

# ---- swanling against strongSwan ----
SSPID=$(start_charon "$NS_SS" "$SSDIR" ss sw) || {
	log "charon did not start"
	tail -20 "$SSDIR/charon.out" "$SSDIR/charon.log" 2>/dev/null
	echo "0 passed, 1 failed"
	exit 1
}
PIDS+=("$SSPID")

# run_cell ROLE AUTH AEAD DH
run_cell() {
	local role=$1 auth=$2 aead=$3 dh=$4
	local name="swanling-$role $auth $aead $dh"
	local dir=$WORK/cell$cell_no
	local ike="$aead-prfsha256-$dh"
	mkdir -p "$dir"
	cell_no=$((cell_no + 1))
	why=""
	mbit="-"
	local ok=1 rekeyinfo="" start=none
	if ! ss_conf "$SSDIR" b "$auth" "$ike" "$aead"; then
		why="swanctl --load-all failed"
		result 0 "$name" "" "$SSDIR/load.log"
		return
	fi
	[ "$role" = initiator ] && start=start
	sw_conf "$dir/swanling.toml" a "$auth" "$ike" "$aead" $start sw ss
	local swpid
	swpid=$(start_swanling "$NS_SW" "$dir")
	PIDS+=("$swpid")

	waitfor 5 test -S "$dir/control.sock" || { ok=0; why="swanling did not start"; }
	if [ $ok = 1 ] && [ "$role" = responder ]; then
		swctl "$SSDIR" --initiate --child net --timeout 15 >"$dir/initiate.log" 2>&1 || { ok=0; why="swanctl --initiate failed"; }
	fi
	[ $ok = 1 ] && { waitfor 15 sw_child_up "$NS_SW" "$dir" || { ok=0; why="swanling has no Child SA"; }; }
	[ $ok = 1 ] && { sw_status "$NS_SW" "$dir" | grep -q '"state": "established"' || { ok=0; why="swanling status shows no IKE SA"; }; }
	[ $ok = 1 ] && { waitfor 5 ss_child_up "$SSDIR" || { ok=0; why="strongSwan has no Child SA"; }; }
	[ $ok = 1 ] && { traffic "$NS_SW" "$NS_SS" "$dir" || ok=0; }
	if [ $ok = 1 ] && [ "${REKEY_SECS:-0}" -gt 0 ]; then
		# Rekeys under traffic (issue 5): ping every 50 ms for
		# REKEY_SECS while the configured side rekeys; no ping may be lost.
		local count=$((REKEY_SECS * 20)) got lost kids ikes
		ip netns exec "$NS_SW" ping -c "$count" -i 0.05 -W 1 -I 198.51.100.1 203.0.113.1 >"$dir/ping-rekey.log" 2>&1
		got=$(awk '/packets transmitted/ {print $4}' "$dir/ping-rekey.log")
		lost=$((count - ${got:-0}))
		kids=$(grep -c "Child SA installed" "$dir/swanling.log")
		ikes=$(grep -c "IKE SA rekeyed" "$dir/swanling.log")
		rekeyinfo=", $((kids - 1)) Child SA and $ikes IKE SA rekeys in ${REKEY_SECS}s, $lost of $count pings lost"
		if [ "$lost" -ne 0 ] || [ "$kids" -lt 3 ] || [ "$ikes" -lt 1 ]; then
			ok=0 why="rekeying: $((kids - 1)) Child SA and $ikes IKE SA rekeys, $lost of $count pings lost"
		elif ! sw_child_up "$NS_SW" "$dir" || ! ss_child_up "$SSDIR"; then
			ok=0 why="tunnel gone after rekeying"
		fi
	fi
	# Delete: alternately from swanling (its shutdown deletes every SA)
	# and from strongSwan.
	local deleter
	if [ $((cell_no % 2)) = 1 ]; then deleter=swanling; else deleter=strongSwan; fi
	deleter=${DELETER:-$deleter}
	if [ $ok = 1 ]; then
		if [ "$deleter" = swanling ]; then
			kill -TERM "$swpid"
			waitfor 5 stopped "$swpid" || { ok=0; why="swanling did not stop"; }
			[ $ok = 1 ] && { waitfor 5 ss_no_sa "$SSDIR" || { ok=0; why="strongSwan kept its SA after swanling's Delete"; }; }
		else
			swctl "$SSDIR" --terminate --ike sw --timeout 10 >"$dir/terminate.log" 2>&1 || { ok=0; why="swanctl --terminate failed"; }
			[ $ok = 1 ] && { waitfor 5 sw_all_gone "$NS_SW" "$dir" || { ok=0; why="swanling kept its SAs after strongSwan's Delete"; }; }
		fi
	fi
	stop "$swpid"
	swctl "$SSDIR" --terminate --ike sw --timeout 5 >/dev/null 2>&1
	result $ok "$name" "iperf3 ${mbit} Mbit/s, delete from $deleter$rekeyinfo" "$dir/swanling.log" "$SSDIR/charon.log"
}

if [ -n "${CELL:-}" ]; then
	# One cell, e.g. CELL="initiator psk aes128gcm16 ecp256".
	# shellcheck disable=SC2086
	attempt run_cell $CELL
elif [ "${MATRIX:-1}" = 0 ]; then
	: # strongSwan matrix left out
elif [ "${FULL:-0}" = 1 ]; then
	for role in initiator responder; do
		for auth in psk pubkey; do
			for aead in aes128gcm16 chacha20poly1305; do
				for dh in ecp256 x25519 modp2048; do
					attempt run_cell $role $auth $aead $dh
				done
			done
		done
	done
else
	# Every role x auth x group, with the AEAD alternating so that each
	# role and auth meets both.
	i=0
	for role in initiator responder; do
		for auth in psk pubkey; do
			for dh in ecp256 x25519 modp2048; do
				if [ $((i % 2)) = 0 ]; then aead=aes128gcm16; else aead=chacha20poly1305; fi
				i=$((i + 1))
				attempt run_cell $role $auth $aead $dh
			done
		done
	done
fi

if [ -z "${CELL:-}" ] && [ "${MATRIX:-1}" = 1 ]; then
	# Signatures with ECDSA P-256 raw keys (RFC 7427) in both roles.
	attempt run_cell initiator ecdsa aes128gcm16 ecp256
	attempt run_cell responder ecdsa chacha20poly1305 x25519
fi

if [ -z "${CELL:-}" ] && [ "${REKEY:-1}" = 1 ]; then
	# Rekeying against strongSwan: strongSwan rekeys the Child SA every
	# 4 s and the IKE SA every 7 s (swanling responds) for 15 s, then
	# swanling rekeys the Child SA every 4 s and the IKE SA after a
	# minute, its shortest ike_rekey_time (strongSwan responds), for 70 s.
	# Both sides also run DPD every 2 s, so liveness checks cross the
	# rekeys (window of 1, RFC 7296, Section 2.3).
	REKEY_SECS=15 SS_REKEY=4s SS_LIFE=60s SS_IKEREKEY=7s SS_DPD=2s SW_DPD=2s \
		attempt run_cell initiator psk aes128gcm16 x25519
	REKEY_SECS=70 SW_REKEYLINES='rekey_time = "4s"\nike_rekey_time = "1m"' SS_DPD=2s SW_DPD=2s \
		attempt run_cell responder psk chacha20poly1305 ecp256
fi
stop "$SSPID"

# ---- swanling against swanling ----
if [ -z "${CELL:-}" ] && { [ "${SWSW:-1}" = 1 ] || [ "${REF:-1}" = 1 ]; }; then
	pair "$NS_A" "$NS_B" || exit 1
fi

# run_swsw AUTH AEAD DH DELETER(a|b) [START]: START "trap" brings the
# tunnel up by traffic (the data plane's acquire) instead of at start.
run_swsw() {
	local auth=$1 aead=$2 dh=$3 deleter=$4 startmode=${5:-start}
	local name="swanling-swanling $auth $aead $dh $startmode"
	local dir=$WORK/cell$cell_no ike="$aead-prfsha256-$dh"
	cell_no=$((cell_no + 1))
	mkdir -p "$dir/a" "$dir/b"
	why=""
	mbit="-"
	local ok=1
	sw_conf "$dir/a/swanling.toml" a "$auth" "$ike" "$aead" "$startmode" sw swb
	sw_conf "$dir/b/swanling.toml" b "$auth" "$ike" "$aead" none swb sw
	local pa pb
	pb=$(start_swanling "$NS_B" "$dir/b")
	PIDS+=("$pb")
	waitfor 5 test -S "$dir/b/control.sock" || { ok=0; why="responder did not start"; }
	pa=$(start_swanling "$NS_A" "$dir/a")
	PIDS+=("$pa")
	if [ $ok = 1 ] && [ "$startmode" = trap ]; then
		waitfor 5 test -S "$dir/a/control.sock" || { ok=0; why="initiator did not start"; }
		# Nothing happens until a packet hits the trap policy; it is held
		# and sent once the tunnel is up.
		sleep 1
		if sw_child_up "$NS_A" "$dir/a"; then
			ok=0 why="trap tunnel came up without traffic"
		else
			ip netns exec "$NS_A" ping -c 1 -W 5 -I 198.51.100.1 203.0.113.1 >"$dir/ping-trap.log" 2>&1 ||
				{ ok=0; why="the packet that triggered the tunnel was lost"; }
		fi
	fi
	[ $ok = 1 ] && { waitfor 15 sw_child_up "$NS_A" "$dir/a" || { ok=0; why="initiator has no Child SA"; }; }
	[ $ok = 1 ] && { waitfor 5 sw_child_up "$NS_B" "$dir/b" || { ok=0; why="responder has no Child SA"; }; }
	[ $ok = 1 ] && { traffic "$NS_A" "$NS_B" "$dir" || ok=0; }
	if [ $ok = 1 ]; then
		local gone_ns=$NS_B gone_dir=$dir/b victim=$pa
		if [ "$deleter" = b ]; then gone_ns=$NS_A gone_dir=$dir/a victim=$pb; fi
		kill -TERM "$victim"
		waitfor 5 stopped "$victim" || { ok=0; why="deleting side did not stop"; }
		[ $ok = 1 ] && { waitfor 5 sw_all_gone "$gone_ns" "$gone_dir" || { ok=0; why="peer kept its SAs after the Delete"; }; }
	fi
	stop "$pa"
	stop "$pb"
	local who=initiator
	[ "$deleter" = b ] && who=responder
	result $ok "$name" "iperf3 ${mbit} Mbit/s, delete from the $who" "$dir/a/swanling.log" "$dir/b/swanling.log"
}

if [ -z "${CELL:-}" ] && [ "${SWSW:-1}" = 1 ]; then
	attempt run_swsw psk aes256gcm16 x25519 a
	attempt run_swsw pubkey chacha20poly1305 ecp256 b
	attempt run_swsw null aes128gcm16 modp2048 a
	attempt run_swsw psk chacha20poly1305 x25519 b trap
fi

# ---- reference: strongSwan against strongSwan ----
if [ -z "${CELL:-}" ] && [ "${REF:-1}" = 1 ]; then
	dir=$WORK/cell$cell_no
	mkdir -p "$dir"
	why=""
	mbit="-"
	ok=1
	A=$(start_charon "$NS_A" "$WORK/ssa" ssa ss) && PIDS+=("$A") || { ok=0; why="charon A did not start"; }
	B=$(start_charon "$NS_B" "$WORK/ssb" ss ssa) && PIDS+=("$B") || { ok=0; why="charon B did not start"; }
	if [ $ok = 1 ]; then
		ss_conf "$WORK/ssa" a psk aes128gcm16-prfsha256-x25519 aes128gcm16 &&
			ss_conf "$WORK/ssb" b psk aes128gcm16-prfsha256-x25519 aes128gcm16 || { ok=0; why="swanctl --load-all failed"; }
	fi
	[ $ok = 1 ] && { swctl "$WORK/ssa" --initiate --child net --timeout 15 >"$dir/initiate.log" 2>&1 || { ok=0; why="initiate failed"; }; }
	[ $ok = 1 ] && { traffic "$NS_A" "$NS_B" "$dir" || ok=0; }
	if [ $ok = 1 ]; then
		swctl "$WORK/ssa" --terminate --ike sw --timeout 10 >/dev/null 2>&1
		waitfor 5 ss_no_sa "$WORK/ssb" || { ok=0; why="responder kept its SA"; }
	fi
	[ -n "${A:-}" ] && stop "$A"
	[ -n "${B:-}" ] && stop "$B"
	result $ok "reference strongSwan-strongSwan psk aes128gcm16 x25519" "iperf3 ${mbit} Mbit/s" \
		"$WORK/ssa/charon.log" "$WORK/ssb/charon.log"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
