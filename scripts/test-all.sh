#!/bin/bash
# All of swanling's tests: `make test`.
#
#  1. install the Debian packages the tests need, when some are missing
#     (scripts/install-deps.sh; needs root);
#  2. go vet ./... and go test ./... (as root, the network tests run in
#     namespaces they create; otherwise they skip);
#  3. every executable integration script scripts/t-*.sh, scripts/test-*.sh
#     and scripts/interop-*.sh, in name order, each a pass/fail step.
# The last line counts the scripts: "N passed, N failed".
set -uo pipefail

cd "$(dirname "$0")/.."
export PATH=/usr/local/go/bin:$PATH
export GOTOOLCHAIN=local

fail=0
step() { echo; echo "=== $*"; }

step "dependencies"
if ! scripts/install-deps.sh; then
	echo "test-all: dependencies missing; integration scripts may fail" >&2
	fail=1
fi

step "go vet ./..."
if go vet ./...; then
	echo "go vet: ok"
else
	echo "go vet: FAILED"
	fail=1
fi

step "go test ./...$([ "$(id -u)" -eq 0 ] && echo " (as root: network tests included)")"
if go test -count=1 -timeout 12m ./...; then
	echo "go test: ok"
else
	echo "go test: FAILED"
	fail=1
fi

passed=0
failed=0
failed_names=()
mapfile -t scripts < <(
	for f in scripts/t-*.sh scripts/test-*.sh scripts/interop-*.sh; do
		[ -f "$f" ] && [ -x "$f" ] && [ "$f" != scripts/test-all.sh ] && echo "$f"
	done | sort -u
)
for s in "${scripts[@]}"; do
	step "$s"
	start=$SECONDS
	if "$s"; then
		passed=$((passed + 1))
		echo "--- PASS $s ($((SECONDS - start))s)"
	else
		failed=$((failed + 1))
		failed_names+=("$s")
		echo "--- FAIL $s ($((SECONDS - start))s)"
	fi
done

echo
if [ $failed -gt 0 ]; then
	echo "failed scripts: ${failed_names[*]}"
fi
if [ $fail -ne 0 ]; then
	echo "go vet/go test or dependencies FAILED (see above)"
fi
echo "$passed passed, $failed failed"
[ $fail -eq 0 ] && [ $failed -eq 0 ]
