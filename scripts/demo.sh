#!/bin/bash
# swanling demo: opportunistic encryption from DNS, on one machine.
#
# Builds three gateways and their hosts in network namespaces, a signed
# private DNS (knot) with a validating resolver (unbound), starts swanling
# on gateways A and B, and pings across: the first ping to a host that
# publishes its gateway's key in reverse DNS brings the tunnel up and is
# answered through it; a host that publishes nothing (behind C) is reached
# in the clear. Shows `swanling status`, then tears everything down.
# Topology: scripts/oe/README.md.
#
#   sudo scripts/install-deps.sh && sudo scripts/demo.sh
#   sudo KEEP=1 scripts/demo.sh      leave it running; prints how to look
#                                    around and how to stop it
#
# Needs root, Go 1.26 at /usr/local/go (or SWANLING_BIN=path), iproute2,
# nftables, knot, knot-dnsutils, unbound, ldnsutils.
set -uo pipefail
cd "$(dirname "$0")/.."
export PATH=/usr/local/go/bin:/usr/local/sbin:/usr/sbin:/sbin:$PATH
OE_NAME=demo

if [ "$(id -u)" -ne 0 ]; then
	echo "demo: run as root (it creates network namespaces): sudo $0" >&2
	exit 1
fi
for tool in ip nft knotd keymgr kdig unbound ldns-signzone; do
	command -v "$tool" >/dev/null 2>&1 || {
		echo "demo: $tool is missing; run scripts/install-deps.sh first" >&2
		exit 1
	}
done
[ -n "${SWANLING_BIN:-}" ] || command -v go >/dev/null 2>&1 || {
	echo "demo: Go is needed to build swanling (/usr/local/go, see scripts/install-deps.sh), or set SWANLING_BIN" >&2
	exit 1
}

. scripts/oe/lib.sh

WORK=$(mktemp -d /tmp/swl-demo.XXXXXX)
KEEPING=0
cleanup() {
	[ "$KEEPING" = 1 ] && return
	echo
	echo "== tearing down"
	oe_cleanup
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say() { printf '\n== %s\n' "$*"; }
run() { # NS-label NS command...: show and run a command in a namespace
	local label=$1 ns=$2
	shift 2
	printf '%s# %s\n' "$label" "$*"
	ip netns exec "$ns" "$@"
}
fail() {
	echo "demo: $*" >&2
	exit 1
}

say "building swanling"
OE_BIN=${SWANLING_BIN:-} oe_init "$WORK" || fail "build failed"
"$OE_SWANLING" version

say "network namespaces (suffix $OE_ID)"
oe_topo_up || fail "topology setup failed"
cat <<EOF
                        net (router, bridge 192.0.2.0/24, 2001:db8:0:1::/64)
        +----------------+---------------+----------------+
   gateway A        gateway B        gateway C        dns: knot 192.0.2.53,
   192.0.2.1        192.0.2.2        192.0.2.3        unbound 192.0.2.54
   hosts on lo:     hosts on lo:     hosts on lo:     (private signed root)
   198.51.100.1-3   203.0.113.1-5    203.0.113.129/130
   2001:db8:a::1    2001:db8:b::1    2001:db8:c::1
   ha 198.51.100.34 hb 203.0.113.34  publishes nothing
   lan 198.18.0.10 (NAT)
EOF

say "keys (swanling genkey) and the DNS records they go into"
oe_keys || fail "swanling genkey failed"
if [ "$OE_DNSREC" = 1 ]; then
	echo "# swanling dns-records -c $WORK/a/records.toml -hosts $OE_HOSTS_A"
	cat "$WORK/a/records.txt"
else
	sed -n '/IPSECKEY/,$p' "$WORK/a/genkey.txt"
fi
oe_dns_up zones || fail "DNS setup failed"
echo
echo "IPSECKEY records in the zones of A's and B's hosts (key-less ones announce AUTH_NULL OE):"
grep -h IPSECKEY "$WORK/zones/100.51.198.records" "$WORK/zones/113.0.203.records" | sed 's/^/  /'
echo
run "[gateway A] " "$OE_NS_GWA" kdig +dnssec +noall +answer +header @192.0.2.54 1.113.0.203.in-addr.arpa IPSECKEY |
	grep -E 'Flags|IPSECKEY' | grep -v RRSIG
echo "(flag ad: unbound validated the answer up to the private root)"

say "starting swanling on gateways A and B (OE groups: see $WORK/a/swanling.toml)"
oe_gw_start a || fail "gateway A did not start"
oe_gw_start b || fail "gateway B did not start"
grep -A2 '^\[oe_group' "$WORK/a/swanling.toml" | grep -v '^--$' | sed 's/^/  /'

say "first ping from A's host 198.51.100.1 to B's host 203.0.113.1: no tunnel exists yet"
run "[gateway A] " "$OE_NS_GWA" ping -c 3 -i 0.3 -W 5 -I 198.51.100.1 203.0.113.1 | tee "$WORK/first-ping.txt" ||
	echo "demo: no reply"
grep 'OE tunnel up\|OE fallback' "$WORK/a/swanling.log" | tail -1
if grep -q 'icmp_seq=1 ' "$WORK/first-ping.txt"; then
	echo "=> the first echo request was held while A looked up 203.0.113.1 and negotiated with B, then sent through the new tunnel and answered"
else
	echo "=> the first echo request was not answered"
fi

say "IPv6: 2001:db8:a::1 to 2001:db8:b::1"
run "[gateway A] " "$OE_NS_GWA" ping -c 2 -i 0.3 -W 5 -I 2001:db8:a::1 2001:db8:b::1 || echo "demo: no reply"

say "host ha (behind A) to host hb (behind B; its record names B as its gateway)"
run "[ha] " "$OE_NS_HA" ping -c 2 -i 0.3 -W 5 203.0.113.34 || echo "demo: no reply"

say "C's host 203.0.113.129 publishes nothing: private-or-clear falls back to clear"
run "[gateway A] " "$OE_NS_GWA" ping -c 2 -i 0.3 -W 5 -I 198.51.100.1 203.0.113.129 || echo "demo: no reply"
grep 'OE fallback' "$WORK/a/swanling.log" | tail -1

say "swanling status on gateway A"
oe_status a

if [ "${KEEP:-0}" = 1 ]; then
	KEEPING=1
	oe_write_down "$WORK/down.sh"
	cat <<EOF

== left running (KEEP=1). Look around:
  ip netns exec $OE_NS_GWA $OE_SWANLING status -control $WORK/a/control.sock
  ip netns exec $OE_NS_GWB $OE_SWANLING status -control $WORK/b/control.sock
  ip netns exec $OE_NS_LAN ping 203.0.113.34          # NATed LAN behind A, through OE
  ip netns exec $OE_NS_GWA ping -I 198.51.100.1 203.0.113.130   # private: dropped
  ip netns exec $OE_NS_NET tcpdump -n -i any not arp  # the wire: ESP only
  ip netns exec $OE_NS_GWA kdig +dnssec @192.0.2.54 34.113.0.203.in-addr.arpa IPSECKEY
  logs: $WORK/a/swanling.log $WORK/b/swanling.log; configs: $WORK/[ab]/swanling.toml
Stop it all with: $WORK/down.sh
EOF
fi
