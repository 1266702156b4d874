#!/bin/bash
# Interop matrix: swanling against strongSwan 5.9.8 charon (kernel-libipsec,
# userspace ESP in UDP), in two network namespaces this script creates.
#
#   swl-sw-<id>: swanling,   outer 192.0.2.1, inner 198.51.100.1 (on lo)
#   swl-ss-<id>: strongSwan, outer 192.0.2.2, inner 203.0.113.1  (on lo)
#
# Each cell: swanling as initiator or responder, PSK or public keys
# (Ed25519, RFC 7427), AES-GCM or ChaCha20-Poly1305 (IKE and ESP), ECP-256,
# Curve25519 or MODP-2048. In every cell the tunnel comes up, ping passes
# both ways, iperf3 runs 3 s through it, and a Delete from one side (swanling
# on shutdown, or swanctl --terminate) tears down both. By default 12 cells
# cover every value of every axis in both roles; FULL=1 runs all 24.
# CELL="ROLE AUTH AEAD DH" runs one cell; DELETER=swanling or strongSwan
# picks the side that deletes.
# SWANLING_BIN=path uses a prebuilt binary instead of building one.
# REKEY=0 leaves out the two rekeying cells (pings every 50 ms while one
# side rekeys; not one may be lost).
# KEEP=1 keeps the work directory (logs) after the run.
#
# Needs root, strongswan-charon, strongswan-swanctl, libcharon-extra-plugins,
# libstrongswan-standard-plugins, iperf3, openssl and Go. Prints
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
for tool in "$CHARON" swanctl iperf3 openssl ip unshare go; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "t-interop-strongswan: $tool missing (scripts/install-deps.sh installs it)" >&2
		echo "0 passed, 1 failed"
		exit 1
	fi
done

ID=$$
NS_SW=swl-sw-$ID
NS_SS=swl-ss-$ID
WORK=$(mktemp -d /tmp/swl-interop.XXXXXX)
SSDIR=$WORK/ss
PIDS=()

cleanup() {
	local p
	for p in "${PIDS[@]}"; do
		kill -TERM "$p" 2>/dev/null
	done
	for _ in $(seq 30); do
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
	ip netns del "$NS_SW" 2>/dev/null
	ip netns del "$NS_SS" 2>/dev/null
	if [ "${KEEP:-0}" = 1 ]; then
		echo "t-interop-strongswan: logs kept in $WORK"
	else
		rm -rf "$WORK"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log() { echo "t-interop-strongswan: $*"; }

# ---- build and keys ----
if [ -n "${SWANLING_BIN:-}" ]; then
	cp "$SWANLING_BIN" "$WORK/swanling"
elif ! go build -o "$WORK/swanling" . 2>"$WORK/build.log"; then
	cat "$WORK/build.log" >&2
	echo "0 passed, 1 failed"
	exit 1
fi
mkdir -p "$SSDIR/run" "$SSDIR"/swanctl/{x509,x509ca,x509aa,x509ocsp,x509crl,x509ac,private,pubkey,rsa,ecdsa,pkcs8,pkcs12,conf.d,bliss}
openssl genpkey -algorithm ed25519 -out "$WORK/sw.key" 2>/dev/null
openssl genpkey -algorithm ed25519 -out "$SSDIR/swanctl/private/ss.key" 2>/dev/null
openssl pkey -in "$SSDIR/swanctl/private/ss.key" -pubout -out "$SSDIR/swanctl/pubkey/ss.pub" 2>/dev/null
openssl pkey -in "$WORK/sw.key" -pubout -out "$SSDIR/swanctl/pubkey/sw.pub" 2>/dev/null
SS_PUB_B64=$(openssl pkey -in "$SSDIR/swanctl/private/ss.key" -pubout -outform DER 2>/dev/null | base64 -w0)

# ---- namespaces ----
ip netns add "$NS_SW" && ip netns add "$NS_SS" || exit 1
ip -n "$NS_SW" link add eth0 type veth peer name eth0 netns "$NS_SS"
ip -n "$NS_SW" addr add 192.0.2.1/24 dev eth0
ip -n "$NS_SS" addr add 192.0.2.2/24 dev eth0
for ns in "$NS_SW" "$NS_SS"; do
	ip -n "$ns" link set lo up
	ip -n "$ns" link set eth0 up
done
ip -n "$NS_SW" addr add 198.51.100.1/32 dev lo
ip -n "$NS_SS" addr add 203.0.113.1/32 dev lo

# ---- strongSwan ----
sed "s|@DIR@|$SSDIR|g" scripts/interop/strongswan.conf.in >"$SSDIR/strongswan.conf"
export STRONGSWAN_CONF=$SSDIR/strongswan.conf
export SWANCTL_DIR=$SSDIR/swanctl
VICI=unix://$SSDIR/charon.vici
ip netns exec "$NS_SS" unshare -m --propagation private \
	sh -c "mount --bind '$SSDIR/run' /run && exec $CHARON" >"$SSDIR/charon.out" 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do
	[ -S "$SSDIR/charon.vici" ] && break
	sleep 0.1
done
if ! [ -S "$SSDIR/charon.vici" ]; then
	log "charon did not start"
	cat "$SSDIR/charon.out" "$SSDIR/charon.log" 2>/dev/null | tail -20
	echo "0 passed, 1 failed"
	exit 1
fi
ss() { swanctl "$@" --uri "$VICI"; }

ss_has_sa() { ss --list-sas --ike sw 2>/dev/null | grep -q "ESTABLISHED"; }
ss_child_up() { ss --list-sas --ike sw 2>/dev/null | grep -q "INSTALLED"; }

# swanling status as JSON; counts IKE SAs and Child SAs.
sw_status() { ip netns exec "$NS_SW" "$WORK/swanling" status -json -control "$1" 2>/dev/null; }
sw_ike_up() { sw_status "$1" | grep -q '"state": "established"'; }
sw_child_up() { sw_status "$1" | grep -q '"spi_out": "[0-9a-f]'; }
# The daemon answers and lists neither IKE nor Child SAs.
sw_all_gone() {
	local st
	st=$(sw_status "$1") || return 1
	! grep -q '"state"\|"spi_in": "[0-9a-f]' <<<"$st"
}

waitfor() { # seconds command...
	local n=$(( $1 * 10 ))
	shift
	for _ in $(seq "$n"); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}

passed=0
failed=0
cell_no=0

# run_cell ROLE AUTH AEAD DH
run_cell() {
	local role=$1 auth=$2 aead=$3 dh=$4
	local name="swanling-$role $auth $aead $dh"
	local dir=$WORK/cell$cell_no
	local ike="$aead-prfsha256-$dh"
	local ctl=$dir/control.sock
	mkdir -p "$dir"
	cell_no=$((cell_no + 1))

	# strongSwan side.
	local localkey="" peerkey="" start=none
	if [ "$auth" = pubkey ]; then
		localkey="pubkeys = ss.pub"
		peerkey="pubkeys = sw.pub"
	fi
	sed -e "s|@IKE@|$ike|" -e "s|@ESP@|$aead|" -e "s|@AUTH@|$auth|g" \
		-e "s|@LOCALKEY@|$localkey|" -e "s|@PEERKEY@|$peerkey|" \
		-e "s|@REKEY@|${SS_REKEY:-0}|" -e "s|@IKEREKEY@|${SS_IKEREKEY:-0}|" \
		-e "s|@LIFE@|${SS_LIFE:-0}|" \
		scripts/interop/swanctl.conf.in >"$SWANCTL_DIR/swanctl.conf"
	if ! ss --load-all >"$dir/swanctl-load.log" 2>&1; then
		log "FAIL $name: swanctl --load-all"
		cat "$dir/swanctl-load.log"
		failed=$((failed + 1))
		return
	fi

	# swanling side.
	[ "$role" = initiator ] && start=start
	local keyline="" peerline='psk = "interop-matrix-shared-key-0123456789"'
	if [ "$auth" = pubkey ]; then
		keyline="key_file = \"$WORK/sw.key\""
		peerline="peer_pubkey = \"$SS_PUB_B64\""
	fi
	sed -e "s|@IKE@|$ike|" -e "s|@ESP@|$aead|" -e "s|@AUTH@|$auth|" -e "s|@START@|$start|" \
		-e "s|@KEYLINE@|$keyline|" -e "s|@PEERLINE@|$peerline|" -e "s|@REKEYLINES@|${SW_REKEYLINES:-}|" \
		scripts/interop/swanling.toml.in >"$dir/swanling.toml"
	ip netns exec "$NS_SW" "$WORK/swanling" run -c "$dir/swanling.toml" -control "$ctl" >"$dir/swanling.log" 2>&1 &
	local swpid=$!
	PIDS+=($swpid)

	local ok=1 why="" mbit="-" rekeyinfo=""
	if ! waitfor 5 test -S "$ctl"; then
		ok=0 why="swanling did not start"
	fi
	if [ $ok = 1 ] && [ "$role" = responder ]; then
		ss --initiate --child net --timeout 15 >"$dir/initiate.log" 2>&1 || { ok=0; why="swanctl --initiate failed"; }
	fi
	if [ $ok = 1 ]; then
		waitfor 15 sw_child_up "$ctl" || { ok=0; why="swanling has no Child SA"; }
	fi
	if [ $ok = 1 ]; then
		waitfor 5 ss_child_up || { ok=0; why="strongSwan has no Child SA"; }
	fi
	if [ $ok = 1 ]; then
		ip netns exec "$NS_SW" ping -c 3 -i 0.2 -W 2 -I 198.51.100.1 203.0.113.1 >"$dir/ping-sw.log" 2>&1 ||
			{ ok=0; why="ping swanling -> strongSwan failed"; }
	fi
	if [ $ok = 1 ]; then
		ip netns exec "$NS_SS" ping -c 3 -i 0.2 -W 2 -I 203.0.113.1 198.51.100.1 >"$dir/ping-ss.log" 2>&1 ||
			{ ok=0; why="ping strongSwan -> swanling failed"; }
	fi
	if [ $ok = 1 ]; then
		ip netns exec "$NS_SS" iperf3 -s -1 -B 203.0.113.1 >"$dir/iperf-server.log" 2>&1 &
		local ipid=$!
		PIDS+=($ipid)
		sleep 0.3
		if ip netns exec "$NS_SW" timeout 20 iperf3 -c 203.0.113.1 -B 198.51.100.1 -t 3 -f m >"$dir/iperf.log" 2>&1; then
			mbit=$(awk '/receiver/ {print $(NF-2)}' "$dir/iperf.log" | tail -1)
		else
			ok=0 why="iperf3 failed"
		fi
		kill "$ipid" 2>/dev/null
	fi
	if [ $ok = 1 ] && [ "${REKEY_SECS:-0}" -gt 0 ]; then
		# Rekeys under traffic (issue 5): ping every 50 ms for
		# REKEY_SECS while the configured side rekeys; no ping may be lost.
		local count=$((REKEY_SECS * 20))
		ip netns exec "$NS_SW" ping -c "$count" -i 0.05 -W 1 -I 198.51.100.1 203.0.113.1 >"$dir/ping-rekey.log" 2>&1
		local got lost kids ikes
		got=$(awk '/packets transmitted/ {print $4}' "$dir/ping-rekey.log")
		lost=$((count - ${got:-0}))
		kids=$(grep -c "Child SA installed" "$dir/swanling.log")
		ikes=$(grep -c "IKE SA rekeyed" "$dir/swanling.log")
		rekeyinfo=", $((kids - 1)) Child SA and $ikes IKE SA rekeys in ${REKEY_SECS}s, $lost of $count pings lost"
		if [ "$lost" -ne 0 ] || [ "$kids" -lt 3 ] || [ "$ikes" -lt 1 ]; then
			ok=0 why="rekeying: $((kids - 1)) Child SA and $ikes IKE SA rekeys, $lost of $count pings lost"
		fi
		sw_child_up "$ctl" && ss_child_up || { ok=0; why="tunnel gone after rekeying"; }
	fi
	# Delete: alternately from swanling (its shutdown deletes every SA)
	# and from strongSwan.
	local deleter
	if [ $((cell_no % 2)) = 1 ]; then deleter=swanling; else deleter=strongSwan; fi
	deleter=${DELETER:-$deleter}
	if [ $ok = 1 ]; then
		if [ $deleter = swanling ]; then
			kill -TERM "$swpid"
			waitfor 5 sh -c "! kill -0 $swpid 2>/dev/null" || { ok=0; why="swanling did not stop"; }
			[ $ok = 1 ] && { waitfor 5 sh -c "! swanctl --list-sas --ike sw --uri $VICI 2>/dev/null | grep -q ESTABLISHED" ||
				{ ok=0; why="strongSwan kept its SA after swanling's Delete"; }; }
		else
			ss --terminate --ike sw --timeout 10 >"$dir/terminate.log" 2>&1 || { ok=0; why="swanctl --terminate failed"; }
			[ $ok = 1 ] && { waitfor 5 sw_all_gone "$ctl" ||
				{ ok=0; why="swanling kept its SAs after strongSwan's Delete"; }; }
		fi
	fi
	kill -TERM "$swpid" 2>/dev/null
	waitfor 5 sh -c "! kill -0 $swpid 2>/dev/null" || kill -KILL "$swpid" 2>/dev/null
	ss --terminate --ike sw --timeout 5 >/dev/null 2>&1
	if [ $ok = 1 ]; then
		passed=$((passed + 1))
		log "PASS $name (iperf3 ${mbit} Mbit/s, delete from $deleter$rekeyinfo)"
	else
		failed=$((failed + 1))
		log "FAIL $name: $why"
		echo "--- swanling log (last 25 lines)"
		tail -25 "$dir/swanling.log"
		echo "--- charon log (last 25 lines)"
		tail -25 "$SSDIR/charon.log"
	fi
}

if [ -n "${CELL:-}" ]; then
	# One cell, e.g. CELL="initiator psk aes128gcm16 ecp256".
	# shellcheck disable=SC2086
	run_cell $CELL
elif [ "${FULL:-0}" = 1 ]; then
	for role in initiator responder; do
		for auth in psk pubkey; do
			for aead in aes128gcm16 chacha20poly1305; do
				for dh in ecp256 x25519 modp2048; do
					run_cell $role $auth $aead $dh
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
				run_cell $role $auth $aead $dh
			done
		done
	done
fi

if [ -z "${CELL:-}" ] && [ "${REKEY:-1}" = 1 ]; then
	# Rekeying against strongSwan: strongSwan rekeys the Child SA every
	# 4 s and the IKE SA every 7 s (swanling responds) for 15 s, then
	# swanling rekeys the Child SA every 4 s and the IKE SA after a
	# minute, its shortest ike_rekey_time (strongSwan responds), for 70 s.
	REKEY_SECS=15 SS_REKEY=4s SS_LIFE=60s SS_IKEREKEY=7s run_cell initiator psk aes128gcm16 x25519
	REKEY_SECS=70 SW_REKEYLINES='rekey_time = "4s"\nike_rekey_time = "1m"' run_cell responder psk chacha20poly1305 ecp256
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
