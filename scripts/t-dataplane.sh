#!/bin/bash
# Data-plane tests: the tun and encap packages (their network tests run as
# root in namespaces they create), then the end-to-end test of two swanling
# gateways with manual keys in two namespaces (dataplane_netns_test.go: all
# four inner/outer IPv4/IPv6 combinations, ESP in UDP and raw ESP, ping both
# ways, iperf3 for 3 s, ICMP Fragmentation Needed / Packet Too Big for
# oversized packets, clean shutdown).
#
# Needs root (skips otherwise), ip(8), ping, iperf3 and Go.
set -uo pipefail
cd "$(dirname "$0")/.."
export PATH=/usr/local/go/bin:$PATH
export GOTOOLCHAIN=local

if [ "$(id -u)" -ne 0 ]; then
	echo "t-dataplane: needs root: network tests skipped"
fi
go test -count=1 ./tun/... ./encap/... || exit 1
go test -count=1 -v -run 'TestDataplane' . 2>&1 | grep -v '^=== RUN'
exit "${PIPESTATUS[0]}"
