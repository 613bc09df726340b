#!/usr/bin/env bash
# Runs every test of PatroniModel on a fresh Debian machine: installs what is missing (as root), starts the Docker
# engine and builds the Patroni image when needed, then runs each test project and prints one summary line.
set -euo pipefail
cd "$(dirname "$0")"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

scripts/install-deps.sh
if [ -x scripts/docker-engine.sh ]; then
    scripts/docker-engine.sh
fi
if [ -x scripts/build-image.sh ]; then
    scripts/build-image.sh
fi
if [ -x scripts/build-image.sh ]; then
    PATRONI_MODEL_FLAVOR=pg17 scripts/build-image.sh
fi
if [ -x scripts/build-spilo-contract-image.sh ]; then
    scripts/build-spilo-contract-image.sh
fi

dotnet build PatroniModel.sln -c Release -nologo -clp:ErrorsOnly

projects=("$@")
if [ ${#projects[@]} -eq 0 ]; then
    projects=(tests/Scenarios.Tests tests/Conformance.Tests tests/Cli.Tests tests/RealCluster.Tests tests/Reconciler.Tests tests/Model.Tests tests/Property tests/E2E)
fi
passed=0; failed=0; skipped=0; status=0
for project in "${projects[@]}"; do
    echo "== dotnet test $project"
    log=$(mktemp)
    start=$(date +%s)
    if ! dotnet test "$project" -c Release --no-build -nologo 2>&1 | tee "$log"; then
        status=1
    fi
    line=$(grep -E "^(Passed|Failed)!" "$log" | tail -1 || true)
    p=$(echo "$line" | sed -nE 's/.*Passed: *([0-9]+).*/\1/p'); f=$(echo "$line" | sed -nE 's/.*Failed: *([0-9]+).*/\1/p'); s=$(echo "$line" | sed -nE 's/.*Skipped: *([0-9]+).*/\1/p')
    if [ -z "$line" ]; then echo "test.sh: $project ran no test"; status=1; fi
    passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0})); skipped=$((skipped + ${s:-0}))
    echo "== $project: ${p:-0} passed, ${f:-0} failed, ${s:-0} skipped in $(( $(date +%s) - start )) s"
    rm -f "$log"
done
if [ "$skipped" -gt 0 ]; then
    echo "test.sh: $skipped tests were skipped; a skipped test does not count as passing" >&2
    status=1
fi
echo "tests: $passed passed, $failed failed, $skipped skipped"
exit $status
