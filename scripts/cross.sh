#!/bin/bash
# Cross builds for routers, reproducibly.
#
#   scripts/cross.sh build [NAME...]   build all (or the named) targets into build/
#   scripts/cross.sh repro NAME        build NAME twice in fresh dirs, compare bytes
#   scripts/cross.sh size              markdown table: stripped and xz -9 sizes
#   scripts/cross.sh list              target names
#
# Reproducible: CGO_ENABLED=0, -trimpath, no VCS stamping, -buildid= and a
# version string that depends only on the commit, so two builds of the same
# tree give the same bytes.
set -euo pipefail

cd "$(dirname "$0")/.."
export PATH=/usr/local/go/bin:$PATH
export GOTOOLCHAIN=local CGO_ENABLED=0

OUT=${OUT:-build}

# name GOOS GOARCH extra-env profile
TARGETS=(
	"linux-mips-softfloat linux mips GOMIPS=softfloat small"
	"linux-mipsle-softfloat linux mipsle GOMIPS=softfloat small"
	"linux-arm-v5 linux arm GOARM=5 -"
	"linux-arm-v7 linux arm GOARM=7 -"
	"linux-arm64 linux arm64 - -"
	"linux-amd64 linux amd64 - -"
	"linux-riscv64 linux riscv64 - -"
)

# The "small" profile, for the MIPS routers with 8-16 MB of flash: the
# compiler does not inline in packages that only the control plane uses
# (ike, config, dnsoe, main, fmt, net, log/slog, encoding/json, x509, TOML,
# netlink...), which saves about 260 KB on mipsle. Every package a packet or
# a key exchange goes through keeps inlining: the runtime, sync, syscall,
# x/sys, all of crypto and x/crypto (not inlining nistec makes P-256 ECDH
# about 5x slower), esp, encap, tun and the small helpers they call per
# packet (netip, binary, bytes, slices, time...).
# It also links with 4 KiB segment alignment (-R 0x1000) instead of 64 KiB:
# 32-bit MIPS Linux (OpenWrt's ath79, ramips, lantiq...) uses 4 KiB pages,
# and the padding between segments was about 70 KB of zeros in the file.
# That also makes the size gate follow real growth in 4 KiB steps rather
# than jumps of 64 KiB.
SMALL_HOT="runtime/... internal/... sync/... syscall unsafe errors math/bits encoding/binary
	net/netip bytes strings slices sort time io unicode/... vendor/...
	crypto/... golang.org/x/crypto/... golang.org/x/sys/...
	swanling/esp/... swanling/encap/... swanling/tun/..."

version() {
	git describe --always --dirty --tags 2>/dev/null || echo dev
}

VERSION=${VERSION:-$(version)}
LDFLAGS="-s -w -buildid= -X main.version=$VERSION"

target() {
	local want=$1 t
	for t in "${TARGETS[@]}"; do
		set -- $t
		if [ "$1" = "$want" ]; then
			echo "$t"
			return 0
		fi
	done
	echo "cross: unknown target $want" >&2
	return 1
}

# build_one NAME DIR: writes DIR/swanling-NAME
build_one() {
	local name=$1 dir=$2 spec goos goarch extra profile p
	spec=$(target "$name")
	set -- $spec
	goos=$2 goarch=$3 extra=$4 profile=$5
	mkdir -p "$dir"
	local envs=(GOOS="$goos" GOARCH="$goarch")
	if [ "$extra" != "-" ]; then
		envs+=("$extra")
	fi
	# For each package the last matching -gcflags pattern applies.
	local gc=() ld=$LDFLAGS
	if [ "$profile" = small ]; then
		gc=(-gcflags=all=-l)
		for p in $SMALL_HOT; do
			gc+=("-gcflags=$p=")
		done
		ld="$ld -R 0x1000"
	fi
	env "${envs[@]}" go build -trimpath -buildvcs=false "${gc[@]}" -ldflags "$ld" \
		-o "$dir/swanling-$name" .
}

names() {
	local t
	for t in "${TARGETS[@]}"; do
		set -- $t
		echo "$1"
	done
}

human() {
	awk -v b="$1" 'BEGIN { printf "%.2f MiB", b / 1048576 }'
}

cmd=${1:-build}
shift || true
case "$cmd" in
list)
	names
	;;
build)
	list=("$@")
	if [ ${#list[@]} -eq 0 ]; then
		mapfile -t list < <(names)
	fi
	for n in "${list[@]}"; do
		start=$SECONDS
		build_one "$n" "$OUT"
		echo "cross: $OUT/swanling-$n ($(stat -c %s "$OUT/swanling-$n") bytes, $((SECONDS - start))s)"
	done
	;;
repro)
	n=${1:?usage: cross.sh repro NAME}
	a=$(mktemp -d) b=$(mktemp -d) c=$(mktemp -d)
	trap 'rm -rf "$a" "$b" "$c"' EXIT
	build_one "$n" "$a"
	# An empty cache forces a full second compile, not a cache hit, so
	# the compiler's output is compared too, not just the linker's.
	GOCACHE=$c build_one "$n" "$b"
	if cmp -s "$a/swanling-$n" "$b/swanling-$n"; then
		echo "cross: $n is reproducible ($(sha256sum <"$a/swanling-$n" | cut -c1-16)...)"
	else
		echo "cross: $n differs between two builds" >&2
		exit 1
	fi
	;;
size)
	echo "| target | stripped | xz -9 |"
	echo "|---|---:|---:|"
	for n in $(names); do
		f=$OUT/swanling-$n
		if [ ! -f "$f" ]; then
			echo "cross: $f missing; run make cross first" >&2
			exit 1
		fi
		s=$(stat -c %s "$f")
		x=$(xz -9 -c "$f" | wc -c)
		echo "| $n | $s ($(human "$s")) | $x ($(human "$x")) |"
	done
	;;
*)
	echo "usage: cross.sh build [NAME...] | repro NAME | size | list" >&2
	exit 2
	;;
esac
