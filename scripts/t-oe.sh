#!/bin/bash
# Opportunistic encryption end to end (issue 6, "Tests"): three gateways
# and their hosts in network namespaces, knot serving signed reverse zones
# under a private root, unbound validating them; topology in
# scripts/oe/README.md. Cases:
#
#   oe-v4, oe-v6      A and B publish keys: OE comes up on the first ping
#                     and that first packet arrives; only ESP on the wire
#   delegation        host ha behind A to host hb behind B, whose IPSECKEY
#                     names B as its gateway
#   auth-null         key-less IPSECKEY records: AUTH_NULL OE (RFC 7619)
#   clear-c           C publishes nothing: private-or-clear reaches it in
#                     the clear, no SA
#   private-c         ... and private does not reach it; no plaintext
#   txt-record        B's host 203.0.113.6 publishes only the RFC 4322 TXT
#                     form
#   nat-lan           198.18.0.10 in A's NATed LAN reaches hb through OE
#   responder-auth    a source that publishes nothing: B refuses it, A
#                     falls back to clear
#   shunt-isolation   that clear shunt does not divert another source's
#                     tunnelled traffic to the same host
#   fail-closed       kill -9 of A while private traffic flows: no plaintext
#   restart           A started again: private traffic flows through OE
#   dns-down          resolver stopped: private-or-clear passes in the
#                     clear, private drops
#   broken-dnssec     B's zone has broken signatures, DNSSEC required: no
#                     tunnel, no plaintext
#
# Needs root, iproute2, nftables, tcpdump, knot, knot-dnsutils, unbound,
# ldnsutils (scripts/install-deps.sh) and Go (or SWANLING_BIN). Prints
# "N passed, N failed" last and exits non-zero when a case failed; CASES="a
# b" runs only those (the cases before them that set up state still run
# their setup); KEEP=1 keeps the work directory. Namespaces and processes
# are removed on any exit.
set -uo pipefail
cd "$(dirname "$0")/.."
export PATH=/usr/local/go/bin:/usr/local/sbin:/usr/sbin:/sbin:$PATH
OE_NAME=t-oe

if [ "$(id -u)" -ne 0 ]; then
	echo "t-oe: needs root: skipped"
	echo "0 passed, 0 failed"
	exit 0
fi
for tool in ip nft tcpdump knotd keymgr kdig unbound ldns-signzone; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "t-oe: $tool missing (scripts/install-deps.sh installs it)" >&2
		echo "0 passed, 1 failed"
		exit 1
	fi
done

. scripts/oe/lib.sh

WORK=$(mktemp -d /tmp/swl-oe.XXXXXX)
passed=0
failed=0
T0=$(date +%s)

cleanup() {
	oe_cleanup
	if [ "${KEEP:-0}" = 1 ]; then
		echo "t-oe: logs kept in $WORK"
	else
		rm -rf "$WORK"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
# Stay well under the CI budget even when every ping times out.
# The watchdog kills its own sleep when it is stopped, so no child is left
# holding the output open.
(
	trap 'kill $sp 2>/dev/null; exit 0' TERM
	sleep 330 &
	sp=$!
	wait $sp
	echo "t-oe: over 330 s, giving up" >&2
	kill -TERM $$
) &
OE_PIDS+=($!)

log() { echo "t-oe: $*"; }

want() { [ -z "${CASES:-}" ] || [[ " $CASES " == *" $1 "* ]]; }

# result OK NAME DETAILS: count and print; on failure show the gateways'
# last log lines.
result() {
	if [ "$1" = 1 ]; then
		passed=$((passed + 1))
		log "PASS $2 ($3)"
		return
	fi
	failed=$((failed + 1))
	log "FAIL $2: $why"
	local g
	for g in a b; do
		echo "--- gateway $g: swanling status"
		oe_status "$g" 2>&1 | tail -20
		echo "--- gateway $g: swanling.log (last 30 lines)"
		tail -30 "$WORK/$g/swanling.log"
	done
}

# ---- capture in net: every interface, so bridged frames between the
# gateways count as much as routed ones.
cap_start() { # name
	CAP=$WORK/$1.pcap
	rm -f "$CAP"
	oe_bg "$OE_NS_NET" tcpdump -Z root --immediate-mode -i any -n -U -s 128 -w "$CAP" 2>"$WORK/$1.tcpdump.log"
	CAP_PID=$OE_BG_PID
	local i
	for i in $(seq 50); do
		grep -q "listening on" "$WORK/$1.tcpdump.log" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}
cap_stop() {
	sleep 0.3
	oe_stop_pid "$CAP_PID"
}
cap_count() { # filter
	tcpdump -r "$CAP" -n "$@" 2>/dev/null | wc -l
}

# children GW PEER: how many Child SAs the gateway lists with that peer
# (status prints the peer as ADDR:PORT or [ADDR]:PORT).
children() {
	local p=$2
	case $p in *:*) p="[$p]" ;; esac
	oe_status "$1" -json 2>/dev/null |
		awk -v p="\"peer\": \"$p:" '/"child_sas"/ {c = 1} /"dataplane"/ {c = 0} c && index($0, p) {n++} END {print n + 0}'
}

# oe_child GW SRC DST: the gateway lists the OE Child SA for this host
# pair (tunnel "oe:SRC-DST" on the initiator, "oeN<:SRC-DST" on a
# responder).
oe_child() {
	oe_status "$1" 2>/dev/null | awk -v want="$2-$3" '
		$1 ~ /^oe[^:]*:/ { t = $1; sub(/^oe[^:]*:/, "", t); if (t == want) found = 1 }
		END { exit !found }'
}

# ping1 NS SRC DST WAIT: one echo request; sets rtt (ms) on success.
ping1() {
	local out
	out=$(ip netns exec "$1" ping -c 1 -W "$4" -I "$2" "$3" 2>&1)
	local rc=$?
	rtt=$(sed -n 's/.*time=\([0-9.]*\) ms.*/\1/p' <<<"$out" | head -1)
	return $rc
}

# later_pings NS SRC DST: after a first ping went unanswered, tell whether
# the next ones are (the held packet lost, the shunt working) or not.
later_pings() {
	if ip netns exec "$1" ping -c 4 -i 0.5 -W 3 -I "$2" "$3" >/dev/null 2>&1; then
		echo " (the held first packet was lost; later pings are answered in the clear)"
	else
		echo " (later pings are not answered either)"
	fi
}

# ---- setup ----
log "building swanling and the topology"
OE_BIN=${SWANLING_BIN:-} oe_init "$WORK" || { echo "0 passed, 1 failed"; exit 1; }
oe_topo_up || { log "topology setup failed"; echo "0 passed, 1 failed"; exit 1; }
oe_keys || { log "swanling genkey failed"; echo "0 passed, 1 failed"; exit 1; }
t=$(date +%s.%N)
oe_dns_up zones || { log "DNS setup failed"; echo "0 passed, 1 failed"; exit 1; }
log "DNS up in $(awk -v a="$t" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}') s"

# The records resolve with AD through the validating resolver, and C's
# names are authenticated NXDOMAIN.
why=""
ok=1
for q in 1.2.0.192.in-addr.arpa 1.100.51.198.in-addr.arpa 2.100.51.198.in-addr.arpa \
	34.113.0.203.in-addr.arpa 1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.b.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa; do
	a=$(ip netns exec "$OE_NS_GWA" kdig +dnssec +time=2 +retry=1 @192.0.2.54 "$q" IPSECKEY 2>&1)
	if ! grep -q 'status: NOERROR' <<<"$a" || ! grep -q 'Flags:.* ad' <<<"$a" || ! grep -q 'IPSECKEY.*10 [0-3] ' <<<"$a"; then
		ok=0 why="$q IPSECKEY: no authenticated answer"
	fi
done
a=$(ip netns exec "$OE_NS_GWA" kdig +dnssec +time=2 +retry=1 @192.0.2.54 129.113.0.203.in-addr.arpa IPSECKEY 2>&1)
grep -q 'status: NXDOMAIN' <<<"$a" && grep -q 'Flags:.* ad' <<<"$a" || { ok=0 why="C's name is not an authenticated NXDOMAIN"; }
src=genkey
[ "$OE_DNSREC" = 1 ] && src="swanling dns-records"
result $ok dns-records "records from $src; IPSECKEY with AD for A, B, hosts, IPv6; NXDOMAIN with AD for C"

oe_gw_start a && oe_gw_start b || { log "gateways did not start"; echo "$passed passed, $((failed + 1)) failed"; exit 1; }

# first_ping NAME NS SRC DST PEER [TSRC]: OE on the first packet, which
# arrives; A and B list the Child SA for TSRC (default SRC) and DST; no
# plaintext ICMP between SRC and DST on the wire, ESP (or ESP in UDP) with
# PEER.
first_ping() {
	local name=$1 ns=$2 src=$3 dst=$4 peer=$5 tsrc=${6:-$3}
	want "$name" || return 0
	why=""
	cap_start "$name" || { why="tcpdump did not start"; result 0 "$name" ""; return; }
	local t=$SECONDS ok=1
	if ! ping1 "$ns" "$src" "$dst" 5; then
		ok=0 why="first ping $src -> $dst got no reply"
	else
		# The rest of the exchange, to count ESP.
		ip netns exec "$ns" ping -c 3 -i 0.2 -W 2 -I "$src" "$dst" >/dev/null 2>&1 || { ok=0 why="later pings $src -> $dst lost"; }
	fi
	cap_stop
	local plain esp
	plain=$(cap_count "(icmp or icmp6) and host $dst")
	esp=$(cap_count "(esp or udp port 4500) and host $peer")
	[ $ok = 1 ] && ! oe_child a "$tsrc" "$dst" && { ok=0 why="A lists no OE Child SA $tsrc-$dst"; }
	[ $ok = 1 ] && ! oe_child b "$dst" "$tsrc" && { ok=0 why="B lists no OE Child SA $dst-$tsrc"; }
	[ $ok = 1 ] && [ "$plain" -ne 0 ] && { ok=0 why="$plain plaintext ICMP packets to or from $dst on the wire"; }
	[ $ok = 1 ] && [ "$esp" -eq 0 ] && { ok=0 why="no ESP with $peer on the wire"; }
	result $ok "$name" "first ping answered in ${rtt:-?} ms, $esp ESP packets, 0 plaintext, case $((SECONDS - t)) s"
}

first_ping oe-v4 "$OE_NS_GWA" 198.51.100.1 203.0.113.1 192.0.2.2
first_ping oe-v6 "$OE_NS_GWA" 2001:db8:a::1 2001:db8:b::1 2001:db8:0:1::2
first_ping delegation "$OE_NS_HA" 198.51.100.34 203.0.113.34 192.0.2.2
first_ping auth-null "$OE_NS_GWA" 198.51.100.2 203.0.113.2 192.0.2.12
# The tunnel must be labelled unauthenticated: 192.0.2.12 has no key.
if want auth-null; then
	why=""
	ok=1
	grep 'OE tunnel up' "$WORK/a/swanling.log" | grep 'remote=203.0.113.2 ' | grep -q 'authenticated=false' ||
		{ ok=0 why="A's log has no unauthenticated 'OE tunnel up' line for 203.0.113.2"; }
	result $ok auth-null-label "A logs the tunnel to the key-less gateway as unauthenticated"
fi

# C publishes nothing.
if want clear-c; then
	why=""
	cap_start clear-c
	t=$SECONDS ok=1
	ping1 "$OE_NS_GWA" 198.51.100.1 203.0.113.129 8 || { ok=0 why="no reply to the first ping to C's 203.0.113.129 under private-or-clear$(later_pings "$OE_NS_GWA" 198.51.100.1 203.0.113.129)"; }
	r4=${rtt:-?}
	ping1 "$OE_NS_GWA" 2001:db8:a::1 2001:db8:c::1 8 || { [ $ok = 1 ] && ok=0 why="no reply from C's 2001:db8:c::1 under private-or-clear"; }
	cap_stop
	n=$(children a 192.0.2.3)
	[ $ok = 1 ] && [ "$n" -ne 0 ] && { ok=0 why="A lists a Child SA with C"; }
	plain=$(cap_count icmp and host 203.0.113.129)
	[ $ok = 1 ] && [ "$plain" -eq 0 ] && { ok=0 why="the reply came back but no ICMP in the clear was seen: capture broken?"; }
	result $ok clear-c "first ping answered in the clear after $r4 ms (IPv4), IPv6 too; $plain plaintext packets seen, as expected"
fi
if want private-c; then
	why=""
	cap_start private-c
	ok=1
	ping1 "$OE_NS_GWA" 198.51.100.1 203.0.113.130 3 && { ok=0 why="C's 203.0.113.130 answered under private"; }
	ip netns exec "$OE_NS_GWA" ping -c 3 -i 0.3 -W 1 -I 198.51.100.1 203.0.113.130 >/dev/null 2>&1 && { ok=0 why="C's 203.0.113.130 answered under private"; }
	cap_stop
	plain=$(cap_count icmp and host 203.0.113.130)
	[ $ok = 1 ] && [ "$plain" -ne 0 ] && { ok=0 why="$plain plaintext ICMP packets to 203.0.113.130 on the wire"; }
	result $ok private-c "no reply, 0 plaintext packets"
fi

# (from 198.51.100.4, so that a failure here leaves no shunt that touches
# the other cases' pairs)
first_ping txt-record "$OE_NS_GWA" 198.51.100.4 203.0.113.6 192.0.2.2
first_ping nat-lan "$OE_NS_LAN" 198.18.0.10 203.0.113.34 192.0.2.2 192.0.2.1

# Responder authorization: 198.51.100.3 publishes nothing, so B must refuse
# selectors for it, even though A names B's host correctly; A then falls
# back to clear (private-or-clear).
if want responder-auth; then
	why=""
	ok=1
	ip netns exec "$OE_NS_GWA" ping -c 4 -i 0.5 -W 3 -I 198.51.100.3 203.0.113.1 >/dev/null 2>&1 ||
		{ ok=0 why="198.51.100.3 -> 203.0.113.1 got no reply at all (expected: in the clear)"; }
	oe_child a 198.51.100.3 203.0.113.1 && { ok=0 why="A lists an OE Child SA for the unauthorized 198.51.100.3"; }
	oe_child b 203.0.113.1 198.51.100.3 && { ok=0 why="B accepted selectors for 198.51.100.3, which names no gateway"; }
	grep 'OE fallback' "$WORK/a/swanling.log" | grep -q 'local=198.51.100.3 remote=203.0.113.1 ' ||
		{ [ $ok = 1 ] && ok=0 why="A logged no fallback for 198.51.100.3 -> 203.0.113.1"; }
	result $ok responder-auth "B refused selectors for a source without records; A fell back to clear"
fi

# The clear shunt A now holds for 198.51.100.3 -> 203.0.113.1 is for that
# pair only: 198.51.100.1 -> 203.0.113.1 still has its tunnel (oe-v4).
if want shunt-isolation; then
	why=""
	ok=1
	cap_start shunt-isolation
	ip netns exec "$OE_NS_GWA" ping -c 3 -i 0.2 -W 3 -I 198.51.100.1 203.0.113.1 >/dev/null 2>&1 ||
		{ ok=0 why="198.51.100.1 -> 203.0.113.1 got no reply"; }
	cap_stop
	plain=$(cap_count "icmp and host 198.51.100.1 and host 203.0.113.1")
	[ $ok = 1 ] && [ "$plain" -ne 0 ] &&
		{ ok=0 why="$plain plaintext ICMP packets 198.51.100.1 <-> 203.0.113.1 although that pair has a tunnel; A's routes: $(ip -n "$OE_NS_GWA" route show table 5157 | grep -c 'throw 203.0.113.1 ') throw for 203.0.113.1"; }
	result $ok shunt-isolation "a clear shunt for another source leaves the pair's tunnel in use, 0 plaintext"
fi

# Fail closed: private traffic to B's 203.0.113.3 through OE, then kill -9.
if want fail-closed || want restart; then
	why=""
	cap_start fail-closed
	ok=1
	ping1 "$OE_NS_GWA" 198.51.100.1 203.0.113.3 5 || { ok=0 why="first private ping to 203.0.113.3 got no reply"; }
	oe_bg "$OE_NS_GWA" ping -q -i 0.05 -I 198.51.100.1 203.0.113.3
	fpid=$OE_BG_PID
	sleep 1
	esp_before=$(cap_count "(esp or udp port 4500) and host 192.0.2.2")
	kill -KILL "$OE_PID_A"
	wait "$OE_PID_A" 2>/dev/null
	OE_PID_A=
	sleep 3
	oe_stop_pid "$fpid" >/dev/null 2>&1
	cap_stop
	# What A guarantees: none of its echo requests leave in the clear (B's
	# replies are B's business: see shunt-isolation).
	plain=$(cap_count "icmp and src 198.51.100.1 and dst 203.0.113.3")
	back=$(cap_count "icmp and src 203.0.113.3 and dst 198.51.100.1")
	[ $ok = 1 ] && [ "$esp_before" -eq 0 ] && { ok=0 why="no ESP before the kill"; }
	[ $ok = 1 ] && [ "$plain" -ne 0 ] && { ok=0 why="$plain plaintext ICMP packets from 198.51.100.1 to 203.0.113.3 around kill -9"; }
	want fail-closed && result $ok fail-closed "$esp_before ESP packets before kill -9, 0 plaintext from A in 3 s of 20 pings/s after ($back plaintext replies from B)"

	oe_gw_start a || { log "gateway A did not start again"; }
	if want restart; then
		why=""
		ok=1
		cap_start restart
		ping1 "$OE_NS_GWA" 198.51.100.1 203.0.113.3 8 ||
			ip netns exec "$OE_NS_GWA" ping -c 3 -W 2 -I 198.51.100.1 203.0.113.3 >/dev/null 2>&1 ||
			{ ok=0 why="no reply from 203.0.113.3 after restarting A"; }
		cap_stop
		plain=$(cap_count "icmp and src 198.51.100.1 and dst 203.0.113.3")
		back=$(cap_count "icmp and src 203.0.113.3 and dst 198.51.100.1")
		[ $ok = 1 ] && ! oe_child a 198.51.100.1 203.0.113.3 && { ok=0 why="no OE Child SA 198.51.100.1-203.0.113.3 on A after the restart"; }
		[ $ok = 1 ] && [ "$plain" -ne 0 ] && { ok=0 why="$plain plaintext ICMP packets from A after the restart"; }
		result $ok restart "private traffic through OE again after kill -9 and a restart (first reply ${rtt:-later} ms; $back plaintext replies from B)"
	fi
fi

# DNS down: the resolver is stopped; A's local policy applies.
if want dns-down; then
	why=""
	oe_dns_down
	cap_start dns-down
	t=$SECONDS ok=1
	ping1 "$OE_NS_GWA" 198.51.100.3 203.0.113.4 10 || { ok=0 why="private-or-clear: no reply to the first ping to 203.0.113.4 with DNS down$(later_pings "$OE_NS_GWA" 198.51.100.3 203.0.113.4)"; }
	r=${rtt:-?}
	ping1 "$OE_NS_GWA" 198.51.100.3 203.0.113.5 4 && { ok=0 why="private: 203.0.113.5 answered with DNS down"; }
	cap_stop
	plain4=$(cap_count icmp and host 203.0.113.4)
	plain5=$(cap_count icmp and host 203.0.113.5)
	[ $ok = 1 ] && [ "$plain4" -eq 0 ] && { ok=0 why="no plaintext ICMP to 203.0.113.4 seen: capture broken?"; }
	[ $ok = 1 ] && [ "$plain5" -ne 0 ] && { ok=0 why="$plain5 plaintext ICMP packets to 203.0.113.5 (private) on the wire"; }
	result $ok dns-down "private-or-clear answered in the clear after $r ms, private dropped with 0 plaintext"
fi

# Broken signatures on B's zone, DNSSEC required: no tunnel.
if want broken-dnssec; then
	why=""
	ok=1
	[ "$OE_DNS_RUNNING" = 1 ] && oe_dns_down
	oe_dns_up zones-broken || { ok=0 why="DNS with the broken zone did not start"; }
	# Fresh gateways: nothing cached, no tunnels left from earlier cases.
	oe_gw_stop a
	oe_gw_stop b
	oe_gw_start a && oe_gw_start b || { ok=0 why="gateways did not restart"; }
	a=$(ip netns exec "$OE_NS_GWA" kdig +dnssec +time=2 +retry=1 @192.0.2.54 3.113.0.203.in-addr.arpa IPSECKEY 2>&1)
	grep -q 'status: SERVFAIL' <<<"$a" || { ok=0 why="the resolver did not reject B's broken zone"; }
	cap_start broken-dnssec
	if [ $ok = 1 ]; then
		ping1 "$OE_NS_GWA" 198.51.100.1 203.0.113.3 4 && { ok=0 why="203.0.113.3 answered with B's zone bogus"; }
	fi
	cap_stop
	plain=$(cap_count icmp and host 203.0.113.3)
	n=$(children a 192.0.2.2)
	[ $ok = 1 ] && [ "$n" -ne 0 ] && { ok=0 why="A lists $n Child SAs with B"; }
	[ $ok = 1 ] && [ "$plain" -ne 0 ] && { ok=0 why="$plain plaintext ICMP packets to 203.0.113.3"; }
	result $ok broken-dnssec "SERVFAIL from unbound, no SA, 0 plaintext"
fi

log "total $(($(date +%s) - T0)) s"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
