#!/bin/bash
# Network-namespace helpers for swanling's scripts; source this file.
#
# Two gateways joined by one veth pair, with the inner test addresses on lo
# (this kernel has no dummy interfaces):
#
#   ns A: veth 192.0.2.1/24, 2001:db8:ffff::1/64   lo 198.51.100.1, 2001:db8:a::1
#   ns B: veth 192.0.2.2/24, 2001:db8:ffff::2/64   lo 203.0.113.1,  2001:db8:b::1
#
# Only documentation addresses. netns_cleanup stops every process recorded
# with netns_track (by PID) and deletes the namespaces made here; call it
# from an EXIT trap.

NETNS_LIST=()
NETNS_PIDS=()

# netns_pair A B: create namespaces A and B and the veth between them.
netns_pair() {
	local a=$1 b=$2
	ip netns add "$a" || return 1
	NETNS_LIST+=("$a")
	ip netns add "$b" || return 1
	NETNS_LIST+=("$b")
	ip link add swl-va netns "$a" type veth peer name swl-vb netns "$b" || return 1
	local ns dev o4 o6 i4 i6
	while read -r ns dev o4 o6 i4 i6; do
		ip -n "$ns" link set lo up
		ip -n "$ns" link set "$dev" up
		ip -n "$ns" addr add "$o4/24" dev "$dev"
		ip -n "$ns" addr add "$o6/64" dev "$dev" nodad
		ip -n "$ns" addr add "$i4/32" dev lo
		ip -n "$ns" addr add "$i6/128" dev lo
	done <<-END
		$a swl-va 192.0.2.1 2001:db8:ffff::1 198.51.100.1 2001:db8:a::1
		$b swl-vb 192.0.2.2 2001:db8:ffff::2 203.0.113.1 2001:db8:b::1
	END
}

# netns_track PID: remember a process to stop at cleanup.
netns_track() { NETNS_PIDS+=("$1"); }

# netns_stop PID: SIGTERM, wait up to 10 s, then SIGKILL.
netns_stop() {
	local pid=$1 i
	kill -TERM "$pid" 2>/dev/null || return 0
	for i in $(seq 1 100); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 0
}

# netns_cleanup: stop tracked processes, delete the namespaces.
netns_cleanup() {
	local pid ns
	for pid in "${NETNS_PIDS[@]}"; do
		netns_stop "$pid"
	done
	NETNS_PIDS=()
	for ns in "${NETNS_LIST[@]}"; do
		ip netns del "$ns" 2>/dev/null
	done
	NETNS_LIST=()
}

# proc_ticks PID: user+system CPU time in clock ticks.
proc_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }

# proc_kib PID FIELD: a /proc/PID/status value in KiB (VmRSS, VmHWM).
proc_kib() { awk -v f="$2:" '$1 == f {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }

# sock_buf_bytes NS PID: receive plus send buffer sizes (rb + tb, as the
# kernel granted them) of the UDP and raw sockets PID holds in NS.
sock_buf_bytes() {
	ip netns exec "$1" ss -H -n -a -m -p -u -w 2>/dev/null | awk -v pid="pid=$2," '
		index($0, pid) { want = 1 }
		/skmem:/ && want {
			if (match($0, /rb[0-9]+/)) t += substr($0, RSTART + 2, RLENGTH - 2)
			if (match($0, /tb[0-9]+/)) t += substr($0, RSTART + 2, RLENGTH - 2)
			want = 0
		}
		END { print t + 0 }'
}
