#!/bin/bash
# Shared helpers for the OE demo (scripts/demo.sh) and the OE end-to-end
# test (scripts/t-oe.sh); source this file. The topology is described in
# scripts/oe/README.md. Only documentation addresses, only namespaces made
# here (swl-oe-<role>-<OE_ID>), and only processes started here (by PID).
#
#   oe_init WORK              names, work directory, swanling binary
#   oe_topo_up                namespaces, links, addresses, routes, NAT
#   oe_keys                   A's and B's keys (swanling genkey)
#   oe_dns_up [SPEC]          knot + unbound (scripts/dns/dns.sh) serving
#                             scripts/oe/zones/SPEC (default "zones")
#   oe_dns_down               stop them
#   oe_gw_start a|b           start swanling on gateway A or B
#   oe_gw_stop a|b            SIGTERM it (SIGKILL after 10 s)
#   oe_status a|b [-json]     swanling status of a gateway
#   oe_cleanup                stop everything, delete the namespaces
#
# Needs bash, iproute2, nftables, knot, unbound, kdig, ldnsutils, tcpdump
# (t-oe.sh only) and either OE_BIN (a built swanling) or Go.

OE_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
OE_ROOT=$(cd "$OE_LIB_DIR/../.." && pwd)
OE_PIDS=()
OE_NSLIST=()
OE_DNS_RUNNING=0

oe_log() { echo "${OE_NAME:-oe}: $*"; }

# oe_init WORK: set the namespace names (suffix: this shell's PID) and build
# swanling into WORK unless OE_BIN names a binary.
oe_init() {
	OE_WORK=$1
	OE_ID=${OE_ID:-$$}
	local r
	for r in net dns gwa gwb gwc ha hb lan; do
		printf -v "OE_NS_${r^^}" 'swl-oe-%s-%s' "$r" "$OE_ID"
	done
	mkdir -p "$OE_WORK"/{a,b,dns} || return 1
	if [ -n "${OE_BIN:-}" ]; then
		cp "$OE_BIN" "$OE_WORK/swanling" || return 1
	else
		(cd "$OE_ROOT" && go build -o "$OE_WORK/swanling" .) >"$OE_WORK/build.log" 2>&1 || {
			cat "$OE_WORK/build.log" >&2
			return 1
		}
	fi
	OE_SWANLING=$OE_WORK/swanling
}

# oe_ns NAME: create a namespace with lo up and forwarding on, and remember
# it for cleanup.
oe_ns() {
	ip netns add "$1" || return 1
	OE_NSLIST+=("$1")
	ip -n "$1" link set lo up
	ip netns exec "$1" sh -c '
		sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
		sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
		sysctl -qw net.ipv4.conf.all.send_redirects=0 net.ipv4.conf.default.send_redirects=0
		sysctl -qw net.ipv4.conf.all.accept_redirects=0 net.ipv6.conf.all.accept_redirects=0
		sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0'
}

# oe_link NS1 DEV1 NS2 DEV2: a veth pair, both ends up.
oe_link() {
	ip -n "$1" link add "$2" type veth peer name "$4" netns "$3" || return 1
	ip -n "$1" link set "$2" up
	ip -n "$3" link set "$4" up
}

# oe_addr NS DEV ADDR/LEN...: addresses (IPv6 without DAD).
oe_addr() {
	local ns=$1 dev=$2 a
	shift 2
	for a in "$@"; do
		case $a in
		*:*) ip -n "$ns" addr add "$a" dev "$dev" nodad || return 1 ;;
		*) ip -n "$ns" addr add "$a" dev "$dev" || return 1 ;;
		esac
	done
}

oe_topo_up() {
	local n
	for n in "$OE_NS_NET" "$OE_NS_DNS" "$OE_NS_GWA" "$OE_NS_GWB" "$OE_NS_GWC" "$OE_NS_HA" "$OE_NS_HB" "$OE_NS_LAN"; do
		oe_ns "$n" || return 1
	done
	# The "internet": a bridge in net joins the gateways' and the DNS
	# server's outer interfaces; net also routes the inner prefixes.
	ip -n "$OE_NS_NET" link add br0 type bridge || return 1
	ip -n "$OE_NS_NET" link set br0 up
	oe_addr "$OE_NS_NET" br0 192.0.2.254/24 2001:db8:0:1::fe/64 || return 1
	local ns port o4 o6
	while read -r ns port o4 o6; do
		oe_link "$OE_NS_NET" "$port" "$ns" eth0 || return 1
		ip -n "$OE_NS_NET" link set "$port" master br0
		oe_addr "$ns" eth0 "$o4/24" "$o6/64" || return 1
		ip -n "$ns" route add default via 192.0.2.254
		ip -n "$ns" -6 route add default via 2001:db8:0:1::fe
	done <<-END
		$OE_NS_GWA pa 192.0.2.1 2001:db8:0:1::1
		$OE_NS_GWB pb 192.0.2.2 2001:db8:0:1::2
		$OE_NS_GWC pc 192.0.2.3 2001:db8:0:1::3
		$OE_NS_DNS pd 192.0.2.50 2001:db8:0:1::50
	END
	ip -n "$OE_NS_NET" route add 198.51.100.0/25 via 192.0.2.1
	ip -n "$OE_NS_NET" route add 203.0.113.0/25 via 192.0.2.2
	ip -n "$OE_NS_NET" route add 203.0.113.128/25 via 192.0.2.3
	ip -n "$OE_NS_NET" -6 route add 2001:db8:a::/48 via 2001:db8:0:1::1
	ip -n "$OE_NS_NET" -6 route add 2001:db8:b::/48 via 2001:db8:0:1::2
	ip -n "$OE_NS_NET" -6 route add 2001:db8:c::/48 via 2001:db8:0:1::3
	ip -n "$OE_NS_NET" -6 route add 2001:db8::53/128 via 2001:db8:0:1::50

	# Hosts on the gateways' lo (this kernel has no dummy interfaces).
	oe_addr "$OE_NS_GWA" lo 198.51.100.1/32 198.51.100.2/32 198.51.100.3/32 198.51.100.4/32 2001:db8:a::1/128 || return 1
	# B's second outer address: a gateway with no key in DNS (AUTH_NULL).
	oe_addr "$OE_NS_GWB" eth0 192.0.2.12/24 || return 1
	oe_addr "$OE_NS_GWB" lo 203.0.113.1/32 203.0.113.2/32 203.0.113.3/32 203.0.113.4/32 203.0.113.5/32 \
		203.0.113.6/32 2001:db8:b::1/128 || return 1
	oe_addr "$OE_NS_GWC" lo 203.0.113.129/32 203.0.113.130/32 2001:db8:c::1/128 || return 1

	# Hosts in their own namespaces: ha behind A, hb behind B (gateway
	# delegation), lan in A's NATed LAN.
	oe_link "$OE_NS_GWA" eth1 "$OE_NS_HA" eth0 || return 1
	oe_addr "$OE_NS_GWA" eth1 198.51.100.33/27 || return 1
	oe_addr "$OE_NS_HA" eth0 198.51.100.34/27 || return 1
	ip -n "$OE_NS_HA" route add default via 198.51.100.33
	oe_link "$OE_NS_GWB" eth1 "$OE_NS_HB" eth0 || return 1
	oe_addr "$OE_NS_GWB" eth1 203.0.113.33/27 || return 1
	oe_addr "$OE_NS_HB" eth0 203.0.113.34/27 || return 1
	ip -n "$OE_NS_HB" route add default via 203.0.113.33
	oe_link "$OE_NS_GWA" eth2 "$OE_NS_LAN" eth0 || return 1
	oe_addr "$OE_NS_GWA" eth2 198.18.0.1/15 || return 1
	oe_addr "$OE_NS_LAN" eth0 198.18.0.10/15 || return 1
	ip -n "$OE_NS_LAN" route add default via 198.18.0.1

	# The LAN has no reverse records: source-NAT it to A's public address
	# on the way out, to the tunnel device as much as to eth0, so OE runs
	# between the gateways.
	ip netns exec "$OE_NS_GWA" nft -f - <<-'NFT' || return 1
		table ip swl_oe_nat {
			chain postrouting {
				type nat hook postrouting priority srcnat; policy accept;
				ip saddr 198.18.0.0/15 oifname != "eth2" snat to 192.0.2.1
			}
		}
	NFT
}

# oe_keys: A's and B's Ed25519 keys; sets A_ALG A_KEY B_ALG B_KEY (the
# IPSECKEY algorithm and public key field that genkey prints).
oe_keys() {
	local g out
	for g in a b; do
		rm -f "$OE_WORK/$g/key.pem"
		"$OE_SWANLING" genkey -t ed25519 -gw "192.0.2.$([ $g = a ] && echo 1 || echo 2)" \
			-o "$OE_WORK/$g/key.pem" >"$OE_WORK/$g/genkey.txt" || return 1
		out=$(sed -n 's/^IN IPSECKEY ( [0-9]* [0-9]* \([0-9]*\) [^ ]* \([^ ]*\) )$/\1 \2/p' "$OE_WORK/$g/genkey.txt")
		[ -n "$out" ] || { oe_log "no IPSECKEY form in genkey output" >&2; return 1; }
		printf -v "${g^^}_ALG" '%s' "${out%% *}"
		printf -v "${g^^}_KEY" '%s' "${out#* }"
	done
	oe_dns_records
}

# The hosts each gateway publishes delegation records for (the keyed ones
# in zones/*.records).
OE_HOSTS_A=198.51.100.1,198.51.100.4,198.51.100.34,2001:db8:a::1
OE_HOSTS_B=203.0.113.1,203.0.113.3,203.0.113.4,203.0.113.5,203.0.113.34,2001:db8:b::1

# oe_dns_records: when the binary has `swanling dns-records`, let it write
# the keyed records of A and B (WORK/X/records.txt) from a config with the
# gateway's addresses and key; OE_DNSREC=1 then. Else OE_DNSREC=0 and the
# records come from the templates and genkey's printed IPSECKEY form.
oe_dns_records() {
	OE_DNSREC=0
	"$OE_SWANLING" dns-records -h 2>&1 | grep -q -- '-hosts' || return 0
	local g addrs hosts
	for g in a b; do
		if [ $g = a ]; then
			addrs='"192.0.2.1", "2001:db8:0:1::1"' hosts=$OE_HOSTS_A
		else
			addrs='"192.0.2.2", "2001:db8:0:1::2"' hosts=$OE_HOSTS_B
		fi
		printf '[local]\nkey_file = "%s"\naddress = [%s]\n' "$OE_WORK/$g/key.pem" "$addrs" >"$OE_WORK/$g/records.toml"
		"$OE_SWANLING" dns-records -c "$OE_WORK/$g/records.toml" -hosts "$hosts" >"$OE_WORK/$g/records.txt" || return 1
	done
	OE_DNSREC=1
}

# oe_render_zones SPEC DIR: copy scripts/oe/zones/SPEC and its records
# files into DIR with the keys filled in: from `swanling dns-records` when
# OE_DNSREC=1 (the template's keyed lines are replaced by its records that
# fall in the zone), else from the IPSECKEY form genkey printed.
oe_render_zones() {
	local spec=$1 dir=$2 f out zone mode file
	mkdir -p "$dir"
	for f in "$OE_LIB_DIR"/zones/*; do
		out=$dir/$(basename "$f")
		if [ "${OE_DNSREC:-0}" = 1 ] && [[ $f == *.records ]]; then
			grep -v '@[AB]_KEY@' "$f" | sed -e "s|@B_ALG@|$B_ALG|g" -e "s|@B_PUB@|$B_KEY|g" >"$out"
		else
			sed -e "s|@A_ALG@|$A_ALG|g" -e "s|@A_KEY@|$A_KEY|g" \
				-e "s|@B_ALG@|$B_ALG|g" -e "s|@B_KEY@|$B_KEY|g" -e "s|@B_PUB@|$B_KEY|g" "$f" >"$out"
		fi
	done
	[ -f "$dir/$spec" ] || return 1
	[ "${OE_DNSREC:-0}" = 1 ] || return 0
	grep -v '^[[:space:]]*#' "$dir/$spec" | while read -r zone mode file; do
		[ -n "$zone" ] || continue
		echo "; from swanling dns-records" >>"$dir/$file"
		cat "$OE_WORK/a/records.txt" "$OE_WORK/b/records.txt" |
			awk -v z=".$zone" '!/^;/ && length($1) > length(z) && substr($1, length($1) - length(z) + 1) == z' >>"$dir/$file"
	done
}

# oe_dns_up [SPEC]: knot and unbound in the DNS namespace; unbound answers
# on 192.0.2.54, knot on 192.0.2.53.
oe_dns_up() {
	local spec=${1:-zones}
	oe_render_zones "$spec" "$OE_WORK/zones" || return 1
	"$OE_ROOT/scripts/dns/dns.sh" up -n "$OE_NS_DNS" -d "$OE_WORK/dns" -z "$OE_WORK/zones/$spec" \
		-t 300 -m 30 >"$OE_WORK/dns/up.log" 2>&1 || { cat "$OE_WORK/dns/up.log" >&2; return 1; }
	OE_DNS_RUNNING=1
}

oe_dns_down() {
	"$OE_ROOT/scripts/dns/dns.sh" down -d "$OE_WORK/dns"
	OE_DNS_RUNNING=0
}

# oe_gw_ns a|b: the gateway's namespace.
oe_gw_ns() { if [ "$1" = a ]; then echo "$OE_NS_GWA"; else echo "$OE_NS_GWB"; fi; }

# oe_gw_start a|b: write the config from scripts/oe/gw-X.toml.in, start
# swanling and wait until its control socket answers. The log is
# WORK/X/swanling.log (appended to across restarts).
oe_gw_start() {
	local g=$1 dir=$OE_WORK/$1 ns pid
	ns=$(oe_gw_ns "$g")
	sed "s|@DIR@|$dir|g" "$OE_LIB_DIR/gw-$g.toml.in" >"$dir/swanling.toml"
	rm -f "$dir/control.sock"
	echo "=== start $(date -u +%T)" >>"$dir/swanling.log"
	ip netns exec "$ns" "$OE_SWANLING" run -c "$dir/swanling.toml" -control "$dir/control.sock" >>"$dir/swanling.log" 2>&1 &
	pid=$!
	OE_PIDS+=("$pid")
	printf -v "OE_PID_${g^^}" '%s' "$pid"
	local i
	for i in $(seq 100); do
		oe_status "$g" >/dev/null 2>&1 && return 0
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	oe_log "gateway $g did not start" >&2
	tail -20 "$dir/swanling.log" >&2
	return 1
}

oe_status() {
	local g=$1
	shift
	ip netns exec "$(oe_gw_ns "$g")" "$OE_SWANLING" status "$@" -control "$OE_WORK/$g/control.sock"
}

# oe_stop_pid PID: SIGTERM, SIGKILL after 10 s.
oe_stop_pid() {
	local pid=$1 i
	kill -TERM "$pid" 2>/dev/null || return 0
	for i in $(seq 100); do
		kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null; return 0; }
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 0
}

oe_gw_stop() {
	local v="OE_PID_${1^^}"
	[ -n "${!v:-}" ] && oe_stop_pid "${!v}"
	printf -v "$v" '%s' ""
}

# oe_bg NS CMD...: run a command in NS in the background, tracked for
# cleanup; sets OE_BG_PID.
oe_bg() {
	local ns=$1
	shift
	ip netns exec "$ns" "$@" &
	OE_BG_PID=$!
	OE_PIDS+=("$OE_BG_PID")
}

oe_cleanup() {
	local pid ns
	# One SIGTERM each (swanling takes a second one as "stop now"), then
	# up to 10 s for all of them, then SIGKILL.
	for pid in "${OE_PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null
	done
	local i alive
	for i in $(seq 100); do
		alive=0
		for pid in "${OE_PIDS[@]}"; do
			kill -0 "$pid" 2>/dev/null && alive=1
		done
		[ $alive = 0 ] && break
		sleep 0.1
	done
	for pid in "${OE_PIDS[@]}"; do
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	OE_PIDS=()
	[ -n "${OE_WORK:-}" ] && [ -d "$OE_WORK/dns" ] && "$OE_ROOT/scripts/dns/dns.sh" down -d "$OE_WORK/dns" 2>/dev/null
	for ns in "${OE_NSLIST[@]}"; do
		ip netns del "$ns" 2>/dev/null
	done
	OE_NSLIST=()
}

# oe_write_down FILE: a script that undoes everything started so far (for
# KEEP=1: the processes keep running after this shell exits).
oe_write_down() {
	local f=$1 pid ns
	{
		echo "#!/bin/sh"
		echo "# Stops what $(basename "$0") left running and removes its namespaces."
		for pid in "${OE_PIDS[@]}"; do
			echo "kill $pid 2>/dev/null"
		done
		echo "sleep 2"
		for pid in "${OE_PIDS[@]}"; do
			echo "kill -9 $pid 2>/dev/null"
		done
		echo "'$OE_ROOT/scripts/dns/dns.sh' down -d '$OE_WORK/dns'"
		for ns in "${OE_NSLIST[@]}"; do
			echo "ip netns del $ns"
		done
		echo "rm -rf '$OE_WORK'"
	} >"$f"
	chmod +x "$f"
}
