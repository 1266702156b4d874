#!/bin/bash
# Tunnel benchmark (issue 3, "Measure"); not part of CI, it takes minutes.
#
# Two network namespaces joined by veth (scripts/netns.sh). iperf3 TCP,
# 1 and 4 streams, DURATION seconds each (default 10), from ns A's inner
# address to ns B's, through each system in turn:
#
#   veth            no tunnel: iperf3 between the outer addresses
#   swanling-aes    swanling, manual keys, AES-128-GCM, ESP in UDP 4500
#   swanling-chacha swanling, manual keys, ChaCha20-Poly1305, ESP in UDP
#   wireguard-go    built from its source at WG_VERSION with go install
#                   (outside our go.mod), run in the foreground (-f),
#                   configured with wg(8)
#   strongswan      strongSwan 5.9.8 charon with kernel-libipsec (userspace
#                   ESP in UDP), PSK, AES-128-GCM (recipe:
#                   ../shared/interop/README.md)
#
# Runs alternate between the systems, ROUNDS rounds (default 3), and the
# table shows medians: Gbit/s, the ratio to veth and to wireguard-go, the
# CPU % of the tunnel process on each side during the run (100 = one core),
# its peak RSS (VmHWM), its RSS idle after start and idle after the load,
# and the socket buffer memory its UDP/raw sockets were granted (rb + tb,
# from ss -m; the kernel doubles what setsockopt asks for).
#
# Both Go daemons run with the same GOGC and GOMEMLIMIT (default 50 and
# 48MiB, swanling's own defaults; override with BENCH_GOGC and
# BENCH_GOMEMLIMIT). SYSTEMS="veth swanling-aes ..." picks systems,
# STREAMS="1" the iperf3 stream counts (default "1 4"). For an A/B test
# in one run, ALT=/path/to/other/swanling adds the systems alt-aes and
# alt-chacha, which run that binary instead of the one built here.
#
# Needs root, Go, iperf3, wireguard-tools (wg), strongswan-charon,
# strongswan-swanctl, libcharon-extra-plugins, libstrongswan-standard-plugins.
set -uo pipefail
cd "$(dirname "$0")/.."
export PATH=/usr/local/go/bin:/usr/local/sbin:/usr/sbin:/sbin:$PATH
. scripts/netns.sh

ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10}
WG_VERSION=${WG_VERSION:-v0.0.0-20260522210424-ecfc5a8d5446}
SYSTEMS=${SYSTEMS:-veth swanling-aes swanling-chacha wireguard-go strongswan}
STREAMS=${STREAMS:-1 4}
export GOGC=${BENCH_GOGC:-50}
export GOMEMLIMIT=${BENCH_GOMEMLIMIT:-48MiB}
CHARON=/usr/lib/ipsec/charon

if [ "$(id -u)" -ne 0 ]; then
	echo "bench-tunnel: needs root" >&2
	exit 1
fi

ID=$$
A=swl-bna-$ID
B=swl-bnb-$ID
WORK=$(mktemp -d /tmp/swl-bench.XXXXXX)
RESULTS=$WORK/results.tsv
trap 'netns_cleanup; [ -n "${KEEP:-}" ] || rm -rf "$WORK"' EXIT
trap 'exit 130' INT TERM

log() { echo "bench: $*" >&2; }

# ---- build ----
log "building swanling (as the Makefile does: static, stripped)"
CGO_ENABLED=0 go build -trimpath -buildvcs=false -ldflags "-s -w" -o "$WORK/swanling" . || exit 1
if [[ " $SYSTEMS " == *" wireguard-go "* ]]; then
	log "building wireguard-go $WG_VERSION"
	# Outside our module: a clean GOFLAGS and the module cache only.
	if ! (cd "$WORK" && GOFLAGS= GOBIN="$WORK/bin" go install "golang.zx2c4.com/wireguard@$WG_VERSION"); then
		log "wireguard-go build failed: left out"
		SYSTEMS=${SYSTEMS//wireguard-go/}
	fi
fi
for tool in iperf3 wg swanctl "$CHARON"; do
	command -v "$tool" >/dev/null 2>&1 || log "$tool missing: the systems needing it are left out"
done

netns_pair "$A" "$B" || exit 1

# ---- systems: start_X sets PIDA, PIDB (0 for none), SRC, DST ----

PIDA=0
PIDB=0

swanling_conf() { # algorithm keyA keyB spiA spiB peer local_ts remote_ts
	cat <<-EOF
		[listen]
		outer_mtu = 1500

		[manual_sa.bench]
		peer = "$6"
		udp_port = 4500
		spi_in = $5
		spi_out = $4
		algorithm = "$1"
		key_in = "$3"
		key_out = "$2"
		local_ts = ["$7"]
		remote_ts = ["$8"]
		insecure = true
	EOF
}

start_swanling() { # algorithm keylen-in-octets [binary]
	local bin=${3:-$WORK/swanling}
	local alg=$1 n=$2 ka kb
	ka=$(head -c "$n" /dev/urandom | od -An -tx1 | tr -d ' \n')
	kb=$(head -c "$n" /dev/urandom | od -An -tx1 | tr -d ' \n')
	mkdir -p "$WORK/swl-a" "$WORK/swl-b"
	swanling_conf "$alg" "$ka" "$kb" 4096 8192 192.0.2.2 198.51.100.1/32 203.0.113.1/32 >"$WORK/swl-a/c.toml"
	swanling_conf "$alg" "$kb" "$ka" 8192 4096 192.0.2.1 203.0.113.1/32 198.51.100.1/32 >"$WORK/swl-b/c.toml"
	ip netns exec "$A" "$bin" run -c "$WORK/swl-a/c.toml" -control "$WORK/swl-a/ctl" 2>"$WORK/swl-a/log" &
	PIDA=$!
	ip netns exec "$B" "$bin" run -c "$WORK/swl-b/c.toml" -control "$WORK/swl-b/ctl" 2>"$WORK/swl-b/log" &
	PIDB=$!
	netns_track $PIDA
	netns_track $PIDB
	SRC=198.51.100.1
	DST=203.0.113.1
	wait_ping
}

stop_daemons() {
	[ "$PIDA" != 0 ] && netns_stop $PIDA
	[ "$PIDB" != 0 ] && netns_stop $PIDB
	PIDA=0
	PIDB=0
}

start_veth() {
	PIDA=0
	PIDB=0
	SRC=192.0.2.1
	DST=192.0.2.2
}

start_wireguard() {
	local wg=$WORK/bin/wireguard d=$WORK/wg
	mkdir -p "$d"
	(umask 077 && wg genkey >"$d/ka" && wg genkey >"$d/kb")
	wg pubkey <"$d/ka" >"$d/pa"
	wg pubkey <"$d/kb" >"$d/pb"
	# Distinct names: the UAPI sockets live in /var/run/wireguard, which
	# the namespaces share.
	ip netns exec "$A" "$wg" -f swl-wga >"$d/log-a" 2>&1 &
	PIDA=$!
	ip netns exec "$B" "$wg" -f swl-wgb >"$d/log-b" 2>&1 &
	PIDB=$!
	netns_track $PIDA
	netns_track $PIDB
	local i
	for i in $(seq 1 50); do
		ip -n "$A" link show swl-wga >/dev/null 2>&1 && ip -n "$B" link show swl-wgb >/dev/null 2>&1 && break
		sleep 0.1
	done
	ip netns exec "$A" wg set swl-wga listen-port 51820 private-key "$d/ka" \
		peer "$(cat "$d/pb")" allowed-ips 203.0.113.1/32 endpoint 192.0.2.2:51820
	ip netns exec "$B" wg set swl-wgb listen-port 51820 private-key "$d/kb" \
		peer "$(cat "$d/pa")" allowed-ips 198.51.100.1/32 endpoint 192.0.2.1:51820
	ip -n "$A" link set swl-wga mtu 1420 up
	ip -n "$B" link set swl-wgb mtu 1420 up
	ip -n "$A" route add 203.0.113.1/32 dev swl-wga src 198.51.100.1
	ip -n "$B" route add 198.51.100.1/32 dev swl-wgb src 203.0.113.1
	SRC=198.51.100.1
	DST=203.0.113.1
	wait_ping
}

strongswan_dir() { # dir local remote local_id remote_id local_ts remote_ts
	local d=$1
	mkdir -p "$d/run" "$d/swanctl"/{x509,x509ca,x509aa,x509ocsp,x509crl,x509ac,pubkey,private,rsa,ecdsa,bliss,pkcs8,pkcs12}
	cat >"$d/strongswan.conf" <<-EOF
		charon {
			load = random nonce openssl aes gcm sha1 sha2 hmac kdf pem pkcs1 x509 pubkey kernel-libipsec kernel-netlink socket-default vici
			install_routes = yes
			install_virtual_ip = no
			routing_table = 220
			routing_table_prio = 220
			port = 500
			port_nat_t = 4500
			plugins {
				vici {
					socket = unix://$d/charon.vici
				}
			}
			filelog {
				log {
					path = $d/charon.log
					default = 1
					flush_line = yes
				}
			}
		}
	EOF
	cat >"$d/swanctl/swanctl.conf" <<-EOF
		connections {
			bench {
				version = 2
				local_addrs = $2
				remote_addrs = $3
				proposals = aes128gcm16-prfsha256-ecp256
				mobike = no
				local {
					auth = psk
					id = $4
				}
				remote {
					auth = psk
					id = $5
				}
				children {
					bench {
						mode = tunnel
						local_ts = $6
						remote_ts = $7
						esp_proposals = aes128gcm16
						start_action = none
					}
				}
			}
		}
		secrets {
			ike-x {
				id-a = a.test
				id-b = b.test
				secret = "swanling-bench-not-a-secret-0123456789"
			}
		}
	EOF
}

start_charon() { # ns dir -> pid on stdout
	ip netns exec "$1" unshare -m --propagation private sh -c \
		"mount --bind '$2/run' /run && STRONGSWAN_CONF='$2/strongswan.conf' exec $CHARON" >"$2/stdout" 2>&1 &
	echo $!
}

swanctl_in() { # pid dir args...
	local pid=$1 d=$2
	shift 2
	nsenter -t "$pid" -m -n env STRONGSWAN_CONF="$d/strongswan.conf" SWANCTL_DIR="$d/swanctl" \
		swanctl "$@" --uri "unix://$d/charon.vici"
}

start_strongswan() {
	local da=$WORK/ss-a db=$WORK/ss-b i
	rm -rf "$da" "$db"
	strongswan_dir "$da" 192.0.2.1 192.0.2.2 a.test b.test 198.51.100.1/32 203.0.113.1/32
	strongswan_dir "$db" 192.0.2.2 192.0.2.1 b.test a.test 203.0.113.1/32 198.51.100.1/32
	PIDB=$(start_charon "$B" "$db")
	PIDA=$(start_charon "$A" "$da")
	netns_track $PIDA
	netns_track $PIDB
	for i in $(seq 1 100); do
		[ -S "$da/charon.vici" ] && [ -S "$db/charon.vici" ] && break
		sleep 0.1
	done
	swanctl_in $PIDB "$db" --load-all >/dev/null 2>&1 || log "strongswan: load B failed"
	swanctl_in $PIDA "$da" --load-all >/dev/null 2>&1 || log "strongswan: load A failed"
	swanctl_in $PIDA "$da" --initiate --child bench >/dev/null 2>&1 || log "strongswan: initiate failed"
	SRC=198.51.100.1
	DST=203.0.113.1
	wait_ping
}

wait_ping() {
	local i
	for i in $(seq 1 50); do
		ip netns exec "$A" ping -c 1 -W 1 -I "$SRC" "$DST" >/dev/null 2>&1 && return 0
		sleep 0.2
	done
	log "no ping through the tunnel ($SRC -> $DST)"
	return 1
}

# ---- measurement ----

# iperf_gbps STREAMS: run iperf3 for DURATION seconds, print Gbit/s.
iperf_gbps() {
	local out
	ip netns exec "$B" iperf3 -s -1 -B "$DST" >/dev/null 2>&1 &
	local srv=$!
	sleep 0.3
	out=$(ip netns exec "$A" iperf3 -c "$DST" -B "$SRC" -t "$DURATION" -P "$1" -J 2>/dev/null)
	wait $srv 2>/dev/null
	echo "$out" | awk '/"sum_received"/ {s = 1} s && /"bits_per_second"/ {gsub(/[^0-9.e+]/, "", $2); printf "%.3f\n", $2 / 1e9; exit}'
}

measure() { # system
	local sys=$1 p pidsA ticks0A ticks0B t0 t1 gbps cpuA cpuB idle0 idle1 hwm sb
	idle0=0
	sb=0
	if [ "$PIDA" != 0 ]; then
		sleep 1
		idle0=$(( $(proc_kib $PIDA VmRSS) > $(proc_kib $PIDB VmRSS) ? $(proc_kib $PIDA VmRSS) : $(proc_kib $PIDB VmRSS) ))
		sb=$(sock_buf_bytes "$A" $PIDA)
	fi
	for p in $STREAMS; do
		ticks0A=$(proc_ticks $PIDA)
		ticks0B=$(proc_ticks $PIDB)
		t0=$(date +%s.%N)
		gbps=$(iperf_gbps $p)
		t1=$(date +%s.%N)
		cpuA=0
		cpuB=0
		if [ "$PIDA" != 0 ]; then
			cpuA=$(awk -v a="$ticks0A" -v b="$(proc_ticks $PIDA)" -v t0="$t0" -v t1="$t1" -v hz="$(getconf CLK_TCK)" 'BEGIN {printf "%.0f", (b - a) / hz / (t1 - t0) * 100}')
			cpuB=$(awk -v a="$ticks0B" -v b="$(proc_ticks $PIDB)" -v t0="$t0" -v t1="$t1" -v hz="$(getconf CLK_TCK)" 'BEGIN {printf "%.0f", (b - a) / hz / (t1 - t0) * 100}')
		fi
		printf '%s\t%s\t%s\t%s\t%s\n' "$sys" "$p" "${gbps:-0}" "$cpuA" "$cpuB" >>"$RESULTS.runs"
		log "$sys P=$p: ${gbps:-0} Gbit/s, CPU A ${cpuA}% B ${cpuB}%"
	done
	idle1=0
	hwm=0
	if [ "$PIDA" != 0 ]; then
		sleep 3
		idle1=$(( $(proc_kib $PIDA VmRSS) > $(proc_kib $PIDB VmRSS) ? $(proc_kib $PIDA VmRSS) : $(proc_kib $PIDB VmRSS) ))
		hwm=$(( $(proc_kib $PIDA VmHWM) > $(proc_kib $PIDB VmHWM) ? $(proc_kib $PIDA VmHWM) : $(proc_kib $PIDB VmHWM) ))
	fi
	printf '%s\t%s\t%s\t%s\t%s\n' "$sys" "$hwm" "$idle0" "$idle1" "$sb" >>"$RESULTS.mem"
}

: >"$RESULTS.runs"
: >"$RESULTS.mem"
for round in $(seq 1 "$ROUNDS"); do
	for sys in $SYSTEMS; do
		log "round $round: $sys"
		ok=0
		case $sys in
		veth) start_veth && ok=1 ;;
		swanling-aes) start_swanling aes128gcm16 20 && ok=1 ;;
		swanling-chacha) start_swanling chacha20poly1305 36 && ok=1 ;;
		alt-aes) start_swanling aes128gcm16 20 "$ALT" && ok=1 ;;
		alt-chacha) start_swanling chacha20poly1305 36 "$ALT" && ok=1 ;;
		wireguard-go) start_wireguard && ok=1 ;;
		strongswan) start_strongswan && ok=1 ;;
		*) log "unknown system $sys" ;;
		esac
		[ $ok = 1 ] && measure "$sys"
		stop_daemons
		# Leftovers of a system must not disturb the next one.
		for ns in "$A" "$B"; do
			ip -n "$ns" route flush table 220 2>/dev/null
			ip -n "$ns" rule del table 220 2>/dev/null
		done
		sleep 1
	done
done

# ---- the table ----
uname -r >"$WORK/kernel"
awk -F'\t' -v systems="$SYSTEMS" -v streams="$STREAMS" -v rounds="$ROUNDS" -v dur="$DURATION" -v gogc="$GOGC" -v gml="$GOMEMLIMIT" -v kernel="$(uname -r)" -v cpus="$(nproc)" '
function median(list,   n, a, i, j, t) {
	n = split(list, a, " ")
	if (n == 0) return 0
	for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] + 0 > t + 0; j--) a[j + 1] = a[j]; a[j + 1] = t }
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
FILENAME ~ /runs$/ { g[$1, $2] = g[$1, $2] " " $3; ca[$1, $2] = ca[$1, $2] " " $4; cb[$1, $2] = cb[$1, $2] " " $5; next }
{ hwm[$1] = hwm[$1] " " $2; i0[$1] = i0[$1] " " $3; i1[$1] = i1[$1] " " $4; sb[$1] = sb[$1] " " $5 }
END {
	printf "\nswanling tunnel benchmark: iperf3 TCP, %d s per run, medians of %d rounds, kernel %s, %d CPUs\n", dur, rounds, kernel, cpus
	printf "Go daemons: GOGC=%s GOMEMLIMIT=%s; swanling built CGO_ENABLED=0 -ldflags \"-s -w\", wireguard-go with go install defaults\n\n", gogc, gml
	printf "%-16s %3s %8s %7s %7s %6s %6s %9s %9s %9s %9s\n", "system", "P", "Gbit/s", "x veth", "x wg-go", "CPU A", "CPU B", "peak RSS", "idle RSS", "idle aft", "sock buf"
	printf "%-16s %3s %8s %7s %7s %6s %6s %9s %9s %9s %9s\n", "", "", "", "", "", "%", "%", "MiB", "MiB", "MiB", "MiB"
	n = split(systems, s, " ")
	np = split(streams, ps, " ")
	for (q = 1; q <= np; q++) {
		p = ps[q]
		vg = (("veth", p) in g) ? median(g["veth", p]) : 0; wg = (("wireguard-go", p) in g) ? median(g["wireguard-go", p]) : 0
		for (k = 1; k <= n; k++) {
			x = s[k]; if (!((x, p) in g)) continue
			m = median(g[x, p])
			printf "%-16s %3d %8.2f %7s %7s %6.0f %6.0f %9.1f %9.1f %9.1f %9.1f\n", x, p, m,
				(vg > 0 ? sprintf("%.2f", m / vg) : "-"), (wg > 0 ? sprintf("%.2f", m / wg) : "-"),
				median(ca[x, p]), median(cb[x, p]), median(hwm[x]) / 1024, median(i0[x]) / 1024, median(i1[x]) / 1024, median(sb[x]) / 1048576
		}
	}
	printf "\nCPU: the tunnel process in ns A (sender) and ns B (receiver), 100 = one core.\n"
	printf "RSS: the larger of the two processes; peak = VmHWM over the whole round.\n"
	printf "sock buf: rb + tb of the UDP/raw sockets of the process in ns A, as granted.\n"
}' "$RESULTS.runs" "$RESULTS.mem" | tee "$WORK/table.txt"
if [ -n "${KEEP:-}" ]; then log "work directory kept: $WORK"; fi
