#!/bin/bash
# Install what swanling's tests and CI need on a fresh Debian machine.
# Idempotent: runs apt-get only when a package is missing. Needs root for
# that. Go is not installed from Debian (too old): Go 1.26 must be at
# /usr/local/go.
set -euo pipefail

GO=/usr/local/go/bin/go

# Why each package is here (README "Dependencies" repeats this):
#   qemu-user-static      run the router builds (mips, mipsle, arm, arm64) and their unit tests
#   xz-utils              compressed sizes for `make size`
#   iproute2 iputils-ping network namespaces, veth, routes and pings in the end-to-end tests
#   iperf3                throughput through the tunnel
#   tcpdump               prove packets on the wire are ESP, not plaintext
#   nftables              block UDP for the TCP fallback, NAT masquerade
#   strongswan-charon strongswan-swanctl libcharon-extra-plugins libstrongswan-standard-plugins
#                         the interop peer (swanctl, kernel-libipsec, curve25519, chapoly, ...)
#   nsd unbound knot knot-dnsutils ldnsutils
#                         DNSSEC-signed reverse zones and a validating resolver for OE
#   wireguard-tools       the throughput comparison baseline
#   procps                pgrep/pkill-by-pid helpers and ps in the scripts
PACKAGES=(
	qemu-user-static xz-utils iproute2 iputils-ping iperf3 tcpdump nftables
	strongswan-charon strongswan-swanctl libcharon-extra-plugins libstrongswan-standard-plugins
	nsd unbound knot knot-dnsutils ldnsutils wireguard-tools procps
)

if [ ! -x "$GO" ]; then
	echo "install-deps: Go 1.26 is required at /usr/local/go (see https://go.dev/dl/); Debian's golang is too old" >&2
	exit 1
fi
case "$("$GO" env GOVERSION)" in
go1.2[6-9]* | go1.[3-9][0-9]*) ;;
*)
	echo "install-deps: $("$GO" env GOVERSION) at /usr/local/go is too old; need go1.26 or later" >&2
	exit 1
	;;
esac

missing=()
for p in "${PACKAGES[@]}"; do
	# dpkg-query prints "install ok installed" only for a complete install.
	if [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" != "install ok installed" ]; then
		missing+=("$p")
	fi
done
if [ ${#missing[@]} -eq 0 ]; then
	echo "install-deps: all ${#PACKAGES[@]} packages present"
	exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: missing ${missing[*]}; run as root to install them" >&2
	exit 1
fi

# Keep the daemons in these packages (nsd, unbound, knot, strongswan) from
# starting at install time: they would hold ports 53 and 500 that the tests
# bind in their own namespaces. policy-rc.d exiting 101 means "action
# forbidden" to invoke-rc.d (invoke-rc.d(8); README.policy-rc.d in
# init-system-helpers).
policy=/usr/sbin/policy-rc.d
marker='temporary, from swanling scripts/install-deps.sh'
cleanup() {
	if grep -qs "$marker" "$policy"; then
		rm -f "$policy"
	fi
	if [ -e "$policy.swanling-saved" ] && [ ! -e "$policy" ]; then
		mv "$policy.swanling-saved" "$policy"
	fi
}
trap cleanup EXIT
if [ -e "$policy" ] && ! grep -qs "$marker" "$policy"; then
	mv "$policy" "$policy.swanling-saved"
fi
printf '#!/bin/sh\n# %s\nexit 101\n' "$marker" >"$policy"
chmod 755 "$policy"

export DEBIAN_FRONTEND=noninteractive
echo "install-deps: installing ${missing[*]}"
# Wait for another apt/dpkg run (e.g. unattended-upgrades) instead of failing.
apt_opts=(-q -o DPkg::Lock::Timeout=600)
apt-get "${apt_opts[@]}" update
apt-get "${apt_opts[@]}" install -y --no-install-recommends "${missing[@]}"
echo "install-deps: done"
