#!/bin/bash
# Prove the router builds start, and run the unit tests on 32-bit and
# big-endian CPUs, under qemu-user-static.
#
#   scripts/qemu-check.sh [binaries]      run build/swanling-* for mips, mipsle,
#                                         arm v5/v7, arm64: version -v, check-config
#                                         (TOML and UCI examples) and genkey
#   scripts/qemu-check.sh unit ARCH       go test the packages in $QEMU_TEST_PKGS for
#                                         ARCH = mips (32-bit big-endian, softfloat)
#                                         or arm (32-bit, GOARM=5)
#   scripts/qemu-check.sh exec QEMU BIN…  go test -exec wrapper (internal)
#
# Unit tests under qemu run as user nobody: they must be the tests that need
# no root, and a test that wants root skips itself on os.Geteuid() != 0
# (qemu-user passes the real uid through, so as root they would try to build
# namespaces with an emulated binary).
set -euo pipefail

# The exec mode keeps the working directory: go test runs each test binary
# in its package directory.
if [ "${1:-}" != exec ]; then
	cd "$(dirname "$0")/.."
fi
export PATH=/usr/local/go/bin:$PATH
export GOTOOLCHAIN=local CGO_ENABLED=0

OUT=${OUT:-build}
EXAMPLE=${EXAMPLE:-examples/swanling.toml}
# Also checked when present: the same settings in UCI form.
EXAMPLE_UCI=${EXAMPLE_UCI:-examples/swanling.uci}
# Packages whose unit tests run under qemu; missing ones are skipped.
QEMU_TEST_PKGS=${QEMU_TEST_PKGS:-"./config/... ./esp/... ./ike/... ./dnsoe/... ./hw/..."}

qemu_for() {
	case "$1" in
	linux-mips-*) echo qemu-mips-static ;;
	linux-mipsle-*) echo qemu-mipsel-static ;;
	linux-arm-*) echo qemu-arm-static ;;
	linux-arm64) echo qemu-aarch64-static ;;
	*) return 1 ;;
	esac
}

need() {
	if ! command -v "$1" >/dev/null; then
		echo "qemu-check: $1 not found; run scripts/install-deps.sh (qemu-user-static)" >&2
		exit 1
	fi
}

binaries() {
	local fail=0 n q bin
	if [ ! -f "$EXAMPLE" ]; then
		echo "qemu-check: $EXAMPLE missing" >&2
		exit 1
	fi
	for n in linux-mips-softfloat linux-mipsle-softfloat linux-arm-v5 linux-arm-v7 linux-arm64; do
		q=$(qemu_for "$n")
		need "$q"
		bin=$OUT/swanling-$n
		if [ ! -x "$bin" ]; then
			echo "qemu-check: $bin missing; run make cross" >&2
			exit 1
		fi
		echo "== $n ($q)"
		if ! "$q" "$bin" version -v; then
			echo "qemu-check: $n: version -v failed" >&2
			fail=1
		fi
		if ! "$q" "$bin" check-config -c "$EXAMPLE"; then
			echo "qemu-check: $n: check-config failed" >&2
			fail=1
		fi
		if [ -f "$EXAMPLE_UCI" ] && ! "$q" "$bin" check-config -c "$EXAMPLE_UCI"; then
			echo "qemu-check: $n: check-config (UCI) failed" >&2
			fail=1
		fi
		# Key generation and the DNS forms on this byte order and word size.
		local kd out
		kd=$(mktemp -d)
		out=$("$q" "$bin" genkey -t ecdsa-p256 -o "$kd/key.pem" -gw 192.0.2.1) || out=
		if ! grep -q '^IN IPSECKEY ( 10 1 3 192.0.2.1 ' <<<"$out"; then
			echo "qemu-check: $n: genkey failed" >&2
			fail=1
		fi
		rm -rf "$kd"
	done
	if [ $fail -ne 0 ]; then
		exit 1
	fi
	echo "qemu-check: all router builds start"
}

# existing_pkgs prints the patterns of QEMU_TEST_PKGS that hold packages.
existing_pkgs() {
	local p dir
	for p in $QEMU_TEST_PKGS; do
		dir=${p%/...}
		if [ -d "$dir" ] && [ -n "$(find "$dir" -name '*.go' -print -quit)" ]; then
			echo "$p"
		fi
	done
}

unit() {
	local arch=$1 q envs
	case "$arch" in
	mips) q=qemu-mips-static envs=(GOARCH=mips GOMIPS=softfloat) ;;
	arm) q=qemu-arm-static envs=(GOARCH=arm GOARM=5) ;;
	*)
		echo "qemu-check: unit: ARCH is mips or arm" >&2
		exit 2
		;;
	esac
	need "$q"
	local pkgs
	mapfile -t pkgs < <(existing_pkgs)
	if [ ${#pkgs[@]} -eq 0 ]; then
		echo "qemu-check: no packages to test under $q"
		return 0
	fi
	echo "== unit tests under $q (${envs[*]}): ${pkgs[*]}"
	env "${envs[@]}" go test -count=1 -timeout 8m \
		-exec "$PWD/scripts/qemu-check.sh exec $q" "${pkgs[@]}"
}

# exec_wrapped QEMU BIN ARGS: run the test binary under qemu, as nobody when
# we are root, with a private TMPDIR nobody can write.
exec_wrapped() {
	local q=$1 bin=$2
	shift 2
	if [ "$(id -u)" -ne 0 ] || ! command -v setpriv >/dev/null; then
		exec "$q" "$bin" "$@"
	fi
	local d t rc=0
	d=$(mktemp -d /tmp/swl-qemu-bin.XXXXXX)
	t=$(mktemp -d /tmp/swl-qemu-tmp.XXXXXX)
	cp "$bin" "$d/"
	chmod 755 "$d" "$d/$(basename "$bin")"
	chown 65534:65534 "$t"
	TMPDIR=$t HOME=$t GOCACHE=off setpriv --reuid=65534 --regid=65534 --clear-groups \
		"$q" "$d/$(basename "$bin")" "$@" || rc=$?
	rm -rf "$d" "$t"
	return $rc
}

cmd=${1:-binaries}
shift || true
case "$cmd" in
binaries) binaries ;;
unit) unit "${1:?usage: qemu-check.sh unit mips|arm}" ;;
exec) exec_wrapped "$@" ;;
*)
	echo "usage: qemu-check.sh [binaries] | unit mips|arm" >&2
	exit 2
	;;
esac
