#!/bin/bash
# Rekeying under load (issue 5), in network namespaces this script creates
# (swl-rk-a-<pid>, swl-rk-b-<pid>; addresses and the namespace pair come
# from scripts/netns.sh, the configuration templates from scripts/interop/):
#
#   control   swanling <-> swanling, no rekeys: iperf3 -b $RATE for
#             $DURATION s with ping -i 0.01 alongside; its lost pings are
#             what load alone costs.
#   swsw      the same with small packet and byte triggers on both sides
#             (rekey_packets, rekey_bytes): Child SAs rekeyed every second
#             or two, from both sides.
#   swss      swanling (initiator) <-> strongSwan, strongSwan rekeying the
#             Child SA every 3 s and the IKE SA every 7 s; swss-control is
#             the same without rekeys (strongSwan's userspace ESP is slower).
#   refuse    strongSwan refuses swanling's rekeys (they carry a KE for PFS
#             that its proposal lacks: NO_PROPOSAL_CHOSEN), while the
#             IKE_AUTH Child SA, which has no KE, works: four retries,
#             then the tunnel is set up from scratch, then pings pass.
#   silent    the peer stops answering (kill -STOP): swanling's DPD gives
#             up after its retransmissions and recovery starts at once;
#             when the peer runs again (kill -CONT), recovery completes and
#             pings pass.
#
# A load run passes when it lost no more pings than the control run (and
# the rekeying runs rekeyed). DURATION (default 15 s; 60 for the README
# figures) and RATE (default 20M) set the load; RUNS="swsw silent" runs
# only those (a load run then compares with a control of 0 lost). KEEP=1
# keeps the logs.
# Needs root, iperf3, strongswan-charon, strongswan-swanctl and Go. Prints
# "N passed, N failed" last. Namespaces and processes go on any exit.
set -uo pipefail
cd "$(dirname "$0")/.."
export PATH=/usr/local/go/bin:/usr/local/sbin:/usr/sbin:/sbin:$PATH

if [ "$(id -u)" -ne 0 ]; then
	echo "t-rekey: needs root: skipped"
	echo "0 passed, 0 failed"
	exit 0
fi
CHARON=/usr/lib/ipsec/charon
for tool in "$CHARON" swanctl iperf3 ip unshare go; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "t-rekey: $tool missing (scripts/install-deps.sh installs it)" >&2
		echo "0 passed, 1 failed"
		exit 1
	fi
done

# shellcheck source=scripts/netns.sh
. scripts/netns.sh

DURATION=${DURATION:-15}
RATE=${RATE:-20M}
ID=$$
NSA=swl-rk-a-$ID
NSB=swl-rk-b-$ID
WORK=$(mktemp -d /tmp/swl-rekey.XXXXXX)
PSK="interop-matrix-shared-key-0123456789" # the secret in scripts/interop/swanctl.conf.in
IKE=aes128gcm16-prfsha256-x25519
passed=0
failed=0
control_lost=""
ss_control_lost=""

cleanup() {
	netns_cleanup
	if [ "${KEEP:-0}" = 1 ]; then
		echo "t-rekey: logs kept in $WORK"
	else
		rm -rf "$WORK"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log() { echo "t-rekey: $*"; }

waitfor() { # seconds command...
	local n=$(($1 * 10))
	shift
	for _ in $(seq "$n"); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}

result() { # ok name details logfiles...
	local ok=$1 name=$2 details=$3
	shift 3
	if [ "$ok" = 1 ]; then
		passed=$((passed + 1))
		log "PASS $name ($details)"
		return
	fi
	failed=$((failed + 1))
	log "FAIL $name: $details"
	local f
	for f in "$@"; do
		echo "--- $f (last 30 lines)"
		tail -30 "$f"
	done
}

if ! go build -o "$WORK/swanling" . 2>"$WORK/build.log"; then
	cat "$WORK/build.log" >&2
	echo "0 passed, 1 failed"
	exit 1
fi
netns_pair "$NSA" "$NSB" || {
	echo "0 passed, 1 failed"
	exit 1
}

# sw_conf OUT SIDE(a|b) ESP START EXTRA: a swanling configuration from the
# interop template (PSK, our identities), EXTRA in the tunnel section.
sw_conf() {
	local out=$1 side=$2 esp=$3 start=$4 extra=$5 la pa lid rid lts rts
	if [ "$side" = b ]; then
		la=192.0.2.2 pa=192.0.2.1 lid=@b.test rid=@a.test lts=203.0.113.0/24 rts=198.51.100.0/24
	else
		la=192.0.2.1 pa=192.0.2.2 lid=@a.test rid=@b.test lts=198.51.100.0/24 rts=203.0.113.0/24
	fi
	sed -e "s|@LOCALADDR@|$la|g" -e "s|@PEERADDR@|$pa|" -e "s|@LOCALIDLINE@|id = \"$lid\"|" \
		-e "s|@IDLINES@|local_id = \"$lid\"\\nremote_id = \"$rid\"|" \
		-e "s|@LOCALTS@|$lts|" -e "s|@REMOTETS@|$rts|" -e "s|@IKE@|$IKE|" -e "s|@ESP@|$esp|" \
		-e "s|@AUTH@|psk|" -e "s|@START@|$start|" -e "s|@KEYLINE@||" -e "s|@PEERLINE@|psk = \"$PSK\"|" \
		-e "s|@REKEYLINES@|$extra|" -e "s|@DPD@|${SW_DPD:-0s}|" scripts/interop/swanling.toml.in >"$out"
}

# start_swanling NS DIR: runs DIR/swanling.toml; prints its PID.
start_swanling() {
	ip netns exec "$1" "$WORK/swanling" run -c "$2/swanling.toml" -control "$2/control.sock" >"$2/swanling.log" 2>&1 &
	echo $!
}
sw_child_up() { ip netns exec "$1" "$WORK/swanling" status -json -control "$2/control.sock" 2>/dev/null | grep -q '"spi_out": "[0-9a-f]'; }

# start_charon DIR ESP REKEY IKEREKEY LIFE: strongSwan in NSB (side b of the
# interop templates), its files in DIR bind-mounted on /run in a private
# mount namespace; prints its PID.
start_charon() {
	local dir=$1
	mkdir -p "$dir/run" "$dir"/swanctl/{x509,x509ca,x509aa,x509ocsp,x509crl,x509ac,private,pubkey,rsa,ecdsa,pkcs8,pkcs12,conf.d,bliss}
	sed "s|@DIR@|$dir|g" scripts/interop/strongswan.conf.in >"$dir/strongswan.conf"
	sed -e "s|@LOCALADDR@|192.0.2.2|" -e "s|@REMOTEADDR@|192.0.2.1|" -e "s|@LOCALID@|b.test|" -e "s|@REMOTEID@|a.test|" \
		-e "s|@LOCALTS@|203.0.113.0/24|" -e "s|@REMOTETS@|198.51.100.0/24|" -e "s|@IKE@|$IKE|" -e "s|@ESP@|$2|" \
		-e "s|@AUTH@|psk|g" -e "s|@LOCALKEY@||" -e "s|@PEERKEY@||" \
		-e "s|@REKEY@|$3|" -e "s|@IKEREKEY@|$4|" -e "s|@LIFE@|$5|" -e "s|@DPD@|0|" \
		scripts/interop/swanctl.conf.in >"$dir/swanctl/swanctl.conf"
	STRONGSWAN_CONF=$dir/strongswan.conf ip netns exec "$NSB" unshare -m --propagation private \
		sh -c "mount --bind '$dir/run' /run && exec $CHARON" >"$dir/charon.out" 2>&1 &
	local pid=$!
	netns_track $pid
	waitfor 10 test -S "$dir/charon.vici" || return 1
	STRONGSWAN_CONF=$dir/strongswan.conf SWANCTL_DIR=$dir/swanctl swanctl --load-all --uri "unix://$dir/charon.vici" \
		>"$dir/load.log" 2>&1 || return 1
	echo $pid
}

# load DIR: iperf3 from A to B at RATE for DURATION s and ping -i 0.01
# alongside; sets lost (pings) and sent.
load() {
	local dir=$1
	ip netns exec "$NSB" iperf3 -s -1 -B 203.0.113.1 >"$dir/iperf-server.log" 2>&1 &
	local spid=$!
	netns_track $spid
	sleep 0.5
	ip netns exec "$NSA" timeout $((DURATION + 20)) iperf3 -c 203.0.113.1 -B 198.51.100.1 -t "$DURATION" \
		-b "$RATE" -f m >"$dir/iperf.log" 2>&1 &
	local cpid=$!
	netns_track $cpid
	sent=$((DURATION * 100))
	ip netns exec "$NSA" ping -q -c "$sent" -i 0.01 -W 1 -I 198.51.100.1 203.0.113.1 >"$dir/ping.log" 2>&1
	wait $cpid
	netns_stop $spid
	local got
	got=$(awk '/packets transmitted/ {print $4}' "$dir/ping.log")
	lost=$((sent - ${got:-0}))
	mbit=$(awk '/receiver/ {print $(NF-2)}' "$dir/iperf.log" | tail -1)
}

# swsw NAME EXTRA: swanling to swanling under load, EXTRA in both tunnel
# sections.
swsw() {
	local name=$1 extra=$2 dir=$WORK/$1 ok=1 why=""
	mkdir -p "$dir/a" "$dir/b"
	sw_conf "$dir/b/swanling.toml" b aes128gcm16 none "$extra"
	sw_conf "$dir/a/swanling.toml" a aes128gcm16 start "$extra"
	local pb pa
	pb=$(start_swanling "$NSB" "$dir/b")
	netns_track $pb
	pa=$(start_swanling "$NSA" "$dir/a")
	netns_track $pa
	waitfor 15 sw_child_up "$NSA" "$dir/a" || { ok=0 why="no Child SA"; }
	if [ $ok = 1 ]; then
		load "$dir"
		local kids ikes
		kids=$(($(grep -c "Child SA installed" "$dir/a/swanling.log") - 1))
		ikes=$(grep -c "IKE SA rekeyed" "$dir/a/swanling.log")
		why="${DURATION}s at ${mbit:-?} Mbit/s: $kids Child SA and $ikes IKE SA rekeys, $lost of $sent pings lost"
		if [ "$name" = control ]; then
			control_lost=$lost
			[ "$kids" = 0 ] || ok=0
		else
			[ "$kids" -ge 2 ] || ok=0
			[ "$lost" -le "${control_lost:-0}" ] || ok=0
			why="$why (control: ${control_lost:-?})"
		fi
	fi
	netns_stop $pa
	netns_stop $pb
	result $ok "$name" "$why" "$dir/a/swanling.log" "$dir/b/swanling.log"
}

# swss NAME REKEY IKEREKEY: swanling initiator against strongSwan under
# load; swss-control (no rekeys) is the control for strongSwan's
# userspace ESP.
swss() {
	local name=$1 dir=$WORK/$1 ok=1 why=""
	mkdir -p "$dir/a"
	local cp life=60s
	[ "$2" = 0 ] && life=0 # no life_time either: strongSwan would rekey before it
	cp=$(start_charon "$dir/ss" aes128gcm16 "$2" "$3" $life) || { result 0 "$name" "charon did not start" "$dir/ss/charon.out"; return; }
	sw_conf "$dir/a/swanling.toml" a aes128gcm16 start ""
	local pa
	pa=$(start_swanling "$NSA" "$dir/a")
	netns_track $pa
	waitfor 15 sw_child_up "$NSA" "$dir/a" || { ok=0 why="no Child SA"; }
	if [ $ok = 1 ]; then
		load "$dir"
		local kids ikes
		kids=$(($(grep -c "Child SA installed" "$dir/a/swanling.log") - 1))
		ikes=$(grep -c "IKE SA rekeyed" "$dir/a/swanling.log")
		why="${DURATION}s at ${mbit:-?} Mbit/s: $kids Child SA and $ikes IKE SA rekeys, $lost of $sent pings lost"
		if [ "$2" = 0 ]; then
			ss_control_lost=$lost
			[ "$kids" = 0 ] || ok=0
		else
			why="$why (control: ${ss_control_lost:-?})"
			[ "$kids" -ge 2 ] && [ "$ikes" -ge 1 ] && [ "$lost" -le "${ss_control_lost:-0}" ] || ok=0
		fi
	fi
	netns_stop $pa
	netns_stop $cp
	result $ok "$name" "$why" "$dir/a/swanling.log" "$dir/ss/charon.log"
}

pings_ok() { ip netns exec "$NSA" ping -q -c 3 -i 0.2 -W 1 -I 198.51.100.1 203.0.113.1 >/dev/null 2>&1; }

# refuse: strongSwan answers every rekey with NO_PROPOSAL_CHOSEN.
refuse() {
	local dir=$WORK/refuse ok=1 why=""
	mkdir -p "$dir/a"
	local cp pa
	cp=$(start_charon "$dir/ss" aes128gcm16 0 0 0) || { result 0 refuse "charon did not start" "$dir/ss/charon.out"; return; }
	sw_conf "$dir/a/swanling.toml" a aes128gcm16-x25519 start 'rekey_time = "3s"\nlife_time = "5m"'
	pa=$(start_swanling "$NSA" "$dir/a")
	netns_track $pa
	waitfor 15 sw_child_up "$NSA" "$dir/a" || { ok=0 why="no Child SA"; }
	# Retries after about 2, 4, 8 and 16 s (plus jitter), then recovery.
	[ $ok = 1 ] && { waitfor 90 grep -q "setting the tunnel up from scratch" "$dir/a/swanling.log" || { ok=0 why="no recovery"; }; }
	local retries=0
	retries=$(grep -c "rekey refused, retrying" "$dir/a/swanling.log")
	if [ $ok = 1 ]; then
		waitfor 15 sw_child_up "$NSA" "$dir/a" && waitfor 10 pings_ok || { ok=0 why="no traffic after recovery"; }
		local est
		est=$(grep -c "IKE SA established" "$dir/a/swanling.log")
		[ "$est" -ge 2 ] || { ok=0 why="no new IKE SA"; }
		[ "$retries" -ge 4 ] || { ok=0 why="$retries retries before recovery"; }
	fi
	[ $ok = 1 ] && why="$retries refusals retried, then recovery and pings pass"
	netns_stop $pa
	netns_stop $cp
	result $ok refuse "$why" "$dir/a/swanling.log" "$dir/ss/charon.log"
}

# silent: the peer stops answering, then answers again.
silent() {
	local dir=$WORK/silent ok=1 why=""
	mkdir -p "$dir/a" "$dir/b"
	sw_conf "$dir/b/swanling.toml" b aes128gcm16 none ""
	SW_DPD=2s sw_conf "$dir/a/swanling.toml" a aes128gcm16 start ""
	local pb pa
	pb=$(start_swanling "$NSB" "$dir/b")
	netns_track $pb
	pa=$(start_swanling "$NSA" "$dir/a")
	netns_track $pa
	waitfor 15 sw_child_up "$NSA" "$dir/a" && pings_ok || { ok=0 why="tunnel did not come up"; }
	if [ $ok = 1 ]; then
		kill -STOP "$pb"
		# DPD after 2 s of silence, 3 retransmissions from 1 s: about 17 s.
		waitfor 40 grep -q "setting the tunnel up again" "$dir/a/swanling.log" || { ok=0 why="no recovery after the retransmissions"; }
		sleep 2
		kill -CONT "$pb"
		if [ $ok = 1 ]; then
			waitfor 30 sw_child_up "$NSA" "$dir/a" && waitfor 10 pings_ok || { ok=0 why="no traffic after the peer came back"; }
		fi
	fi
	[ $ok = 1 ] && why="retransmission limit, recovery at once, pings pass when the peer answers again"
	netns_stop $pa
	netns_stop $pb
	result $ok silent "$why" "$dir/a/swanling.log" "$dir/b/swanling.log"
}

want() { [[ " ${RUNS:-control swsw swss-control swss refuse silent} " == *" $1 "* ]]; }
want control && swsw control ""
want swsw && swsw swsw 'rekey_packets = 4000\nlife_packets = 8000\nrekey_bytes = "4MB"\nlife_bytes = "8MB"'
want swss-control && swss swss-control 0 0
want swss && swss swss 3s 7s
want refuse && refuse
want silent && silent

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
