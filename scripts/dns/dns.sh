#!/bin/sh
# dns.sh: a DNSSEC-signed authoritative server (knot) and a validating
# resolver (unbound) inside one network namespace, with a private root so
# answers come back with the AD bit and no packet leaves the namespace.
#
#   dns.sh up   -n NETNS -d DIR -z ZONESPEC [-a AUTH4] [-A AUTH6] [-r RESOLVER]
#               [-t TTL] [-m NEGTTL]
#   dns.sh down -d DIR
#
# ZONESPEC lists one zone per line: "<zone> <mode> <records-file>", where
# mode is
#   signed    signed by knot (also key-less IPSECKEY, which ldns-signzone
#             rejects); its DS goes into the root
#   broken    signed with ldns-signzone, then every RRSIG except the one over
#             DNSKEY is corrupted; its DS goes into the root, so a validating
#             resolver answers SERVFAIL for its data
#   insecure  unsigned and delegated without DS: answers without AD
# and the records file (relative to ZONESPEC's directory) holds master-file
# records with $ORIGIN set to the zone; dns.sh adds SOA and NS. '#' starts a
# comment line in ZONESPEC.
#
# knot listens on AUTH4 (default 192.0.2.53) and AUTH6 (default
# 2001:db8::53) and serves the root "." and every zone; unbound listens on
# 127.0.0.1 and RESOLVER (default 192.0.2.54) port 53, with the root's DS as
# its only trust anchor. The addresses are put on lo in NETNS, which must
# exist. PIDs are recorded in DIR/knotd.pid and DIR/unbound.pid; "down"
# stops exactly those processes. Logs: DIR/knotd.log, DIR/unbound.log.
#
# Pitfalls handled here (see the interop notes): unbound's RFC 6303 default
# local zones answer NXDOMAIN for the documentation reverse zones unless each
# zone is declared "nodefault"; KEY flags must be decimal (16896, not 0x4200)
# in records files; long TXT values must be split into quoted strings of at
# most 255 characters.
set -eu

die() { echo "dns.sh: $*" >&2; exit 1; }

cmd=${1:-}
[ -n "$cmd" ] || die "usage: dns.sh up|down ..."
shift

NETNS= DIR= SPEC= AUTH4=192.0.2.53 AUTH6=2001:db8::53 RESOLVER=192.0.2.54 TTL=300 NEGTTL=60
while getopts n:d:z:a:A:r:t:m: o; do
	case $o in
	n) NETNS=$OPTARG ;;
	d) DIR=$OPTARG ;;
	z) SPEC=$OPTARG ;;
	a) AUTH4=$OPTARG ;;
	A) AUTH6=$OPTARG ;;
	r) RESOLVER=$OPTARG ;;
	t) TTL=$OPTARG ;;
	m) NEGTTL=$OPTARG ;;
	*) die "bad option" ;;
	esac
done
[ -n "$DIR" ] || die "-d DIR is required"

stop_pid() { # pidfile
	[ -f "$1" ] || return 0
	pid=$(cat "$1")
	if kill -0 "$pid" 2>/dev/null; then
		kill "$pid" 2>/dev/null || true
		i=0
		while kill -0 "$pid" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
		kill -9 "$pid" 2>/dev/null || true
	fi
	rm -f "$1"
}

if [ "$cmd" = down ]; then
	stop_pid "$DIR/unbound.pid"
	stop_pid "$DIR/knotd.pid"
	exit 0
fi
[ "$cmd" = up ] || die "unknown command $cmd"
[ -n "$NETNS" ] && [ -n "$SPEC" ] || die "up needs -n NETNS and -z ZONESPEC"
[ -f "/var/run/netns/$NETNS" ] || die "namespace $NETNS does not exist"
for t in knotd keymgr unbound kdig ldns-keygen ldns-signzone ldns-key2ds; do
	command -v $t >/dev/null || [ -x /usr/sbin/$t ] || die "$t not installed"
done
PATH=$PATH:/usr/sbin
NS="ip netns exec $NETNS"

mkdir -p "$DIR"
DIR=$(cd "$DIR" && pwd)
SPECDIR=$(cd "$(dirname "$SPEC")" && pwd)
rm -rf "$DIR/zones" "$DIR/db" "$DIR/ldns" "$DIR/run"
mkdir -p "$DIR/zones" "$DIR/db" "$DIR/ldns" "$DIR/run"

ip -n "$NETNS" link set lo up
ip -n "$NETNS" addr replace "$AUTH4/32" dev lo
ip -n "$NETNS" addr replace "$AUTH6/128" dev lo nodad
ip -n "$NETNS" addr replace "$RESOLVER/32" dev lo

# canonical zone name with a trailing dot
fqdn() { case $1 in *.) echo "$1" ;; *) echo "$1." ;; esac; }
# file name for a zone
zfile() { if [ "$1" = . ]; then echo root.zone; else echo "${1%.}.zone"; fi; }

head_of_zone() { # zone
	cat <<-HEAD
	\$ORIGIN $1
	\$TTL $TTL
	@ SOA ns. hostmaster.ns. 1 3600 600 86400 $NEGTTL
	@ NS ns.
	HEAD
}

# knot configuration: one policy with keys made beforehand by keymgr, so
# that the DS records are known before the root is signed.
conf=$DIR/knot.conf
{
	cat <<-CONF
	server:
	    rundir: "$DIR/run"
	    listen: [ $AUTH4@53, $AUTH6@53 ]
	database:
	    storage: "$DIR/db"
	log:
	  - target: "$DIR/knotd.log"
	    any: info
	policy:
	  - id: pre
	    manual: on
	    algorithm: ecdsap256sha256
	    single-type-signing: on
	template:
	  - id: default
	    storage: "$DIR/zones"
	    zonefile-sync: -1
	    zonefile-load: whole
	    journal-content: none
	zone:
	  - domain: .
	    file: root.zone
	    dnssec-signing: on
	    dnssec-policy: pre
	CONF
	grep -v '^[[:space:]]*#' "$SPEC" | while read -r zone mode file; do
		[ -n "$zone" ] || continue
		zone=$(fqdn "$zone")
		echo "  - domain: $zone"
		echo "    file: $(zfile "$zone")"
		if [ "$mode" = signed ]; then
			echo "    dnssec-signing: on"
			echo "    dnssec-policy: pre"
		fi
	done
} >"$conf"

newkey() { # zone -> prints nothing; makes a CSK in knot's KASP database
	keymgr -c "$conf" "$1" generate algorithm=ecdsap256sha256 ksk=yes zsk=yes >/dev/null
}

newkey .
delegations=$DIR/delegations
: >"$delegations"
grep -v '^[[:space:]]*#' "$SPEC" | while read -r zone mode file; do
	[ -n "$zone" ] || continue
	zone=$(fqdn "$zone")
	case $file in /*) src=$file ;; *) src=$SPECDIR/$file ;; esac
	[ -f "$src" ] || die "records file $src missing"
	out=$DIR/zones/$(zfile "$zone")
	{ head_of_zone "$zone"; cat "$src"; } >"$out"
	echo "$zone 3600 NS ns." >>"$delegations"
	case $mode in
	signed)
		newkey "$zone"
		keymgr -c "$conf" "$zone" ds | grep ' DS .* 2 ' >>"$delegations"
		;;
	broken)
		(
			cd "$DIR/ldns"
			ksk=$(ldns-keygen -a ECDSAP256SHA256 -k "$zone")
			zsk=$(ldns-keygen -a ECDSAP256SHA256 "$zone")
			ldns-signzone -f "$out.signed" "$out" "$ksk" "$zsk"
			ldns-key2ds -n -2 "$ksk.key"
		) >>"$delegations"
		# Flip the first character of every signature but the DNSKEY's.
		awk '$4 == "RRSIG" && $5 != "DNSKEY" {
			c = substr($NF, 1, 1); r = (c == "A") ? "B" : "A"
			$NF = r substr($NF, 2) } { print }' "$out.signed" >"$out"
		rm -f "$out.signed"
		;;
	insecure) ;;
	*) die "unknown mode $mode for $zone" ;;
	esac
done

{
	head_of_zone .
	echo "ns. A $AUTH4"
	echo "ns. AAAA $AUTH6"
	cat "$delegations"
} >"$DIR/zones/root.zone"
keymgr -c "$conf" . ds | grep ' DS .* 2 ' >"$DIR/root.ds"

$NS knotd -c "$conf" >"$DIR/knotd.out" 2>&1 &
echo $! >"$DIR/knotd.pid"

# Wait until knot serves the signed root.
i=0
until $NS kdig +time=1 +retry=0 +dnssec @"$AUTH4" . DNSKEY 2>/dev/null | grep -q RRSIG; do
	i=$((i + 1))
	[ $i -lt 50 ] || { cat "$DIR/knotd.log" >&2; die "knotd did not come up"; }
	kill -0 "$(cat "$DIR/knotd.pid")" 2>/dev/null || { cat "$DIR/knotd.out" "$DIR/knotd.log" >&2; die "knotd exited"; }
	sleep 0.2
done

{
	cat <<-HINTS
	. 3600000 NS ns.
	ns. 3600000 A $AUTH4
	ns. 3600000 AAAA $AUTH6
	HINTS
} >"$DIR/root.hints"

{
	cat <<-CONF
	server:
	    chroot: ""
	    username: ""
	    directory: "$DIR"
	    pidfile: "$DIR/unbound.run.pid"
	    logfile: "$DIR/unbound.log"
	    use-syslog: no
	    verbosity: 1
	    val-log-level: 2
	    num-threads: 1
	    interface: 127.0.0.1
	    interface: $RESOLVER
	    port: 53
	    access-control: 0.0.0.0/0 allow
	    access-control: ::/0 allow
	    do-not-query-localhost: no
	    root-hints: "$DIR/root.hints"
	    trust-anchor-file: "$DIR/root.ds"
	    module-config: "validator iterator"
	    cache-max-ttl: 30
	    cache-max-negative-ttl: 5
	    so-reuseport: no
	CONF
	grep -v '^[[:space:]]*#' "$SPEC" | while read -r zone mode file; do
		[ -n "$zone" ] || continue
		echo "    local-zone: \"$(fqdn "$zone")\" nodefault"
	done
	cat <<-CONF
	remote-control:
	    control-enable: no
	CONF
} >"$DIR/unbound.conf"

$NS unbound -d -c "$DIR/unbound.conf" >"$DIR/unbound.out" 2>&1 &
echo $! >"$DIR/unbound.pid"

i=0
until $NS kdig +time=1 +retry=0 @127.0.0.1 . SOA 2>/dev/null | grep -q 'status: NOERROR'; do
	i=$((i + 1))
	[ $i -lt 50 ] || { cat "$DIR/unbound.out" "$DIR/unbound.log" >&2; die "unbound did not come up"; }
	kill -0 "$(cat "$DIR/unbound.pid")" 2>/dev/null || { cat "$DIR/unbound.out" "$DIR/unbound.log" >&2; die "unbound exited"; }
	sleep 0.2
done
echo "dns.sh: knotd on $AUTH4 and $AUTH6, unbound on 127.0.0.1 and $RESOLVER in $NETNS"
