#!/usr/bin/env bash
# Mutation score of the product (src/Reconciler, src/Consumer) with Stryker.NET (dotnet-stryker, pinned in
# .config/dotnet-tools.json), tests/Reconciler.Tests as the test runner. Not part of test.sh (see README: Mutation score).
#   scripts/mutation.sh                         every file of src/Reconciler and src/Consumer, every test (slow: real cluster)
#   scripts/mutation.sh fast                    only the tests that need no PostgreSQL (unit tests), every file
#   MUTATE='**/Reports/*.cs' scripts/mutation.sh fast    one folder while iterating
#   PROJECTS=Consumer scripts/mutation.sh        one project (Reconciler, Consumer; both by default)
# Coverage analysis perTest: each mutant runs only the tests that reach it, and mutants no test shares run together.
# Concurrency 1 (CONCURRENCY=n to change): the machine's 2 cores are shared. Everything runs under nice.
# Prints one line per project and the score; reports (json, html, log) in artifacts/mutation/<utc>/.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-all}
mutate=${MUTATE:-**/*.cs}
projects=${PROJECTS:-Reconciler Consumer}
concurrency=${CONCURRENCY:-1}
out=artifacts/mutation/$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$out"
dotnet tool restore >/dev/null
filter=""
if [ "$mode" = fast ]; then
    filter='FullyQualifiedName~WalGapBoundaryTests|FullyQualifiedName~IgnoreSlotRuleTests|FullyQualifiedName~SlotProtectionTests|FullyQualifiedName~FilePositionStore'
fi
# One local Patroni cluster for every test host Stryker starts (tests/Reconciler.Tests/Cluster/LocalPatroniCluster.Shared.cs):
# the first starts it, the others adopt it; stopped here by its pid files when the run ends.
shared=$(mktemp -d /tmp/patroni-model-shared-XXXXXX)
chmod 755 "$shared"
export PATRONI_MODEL_RECONCILER_CLUSTER=$shared
stop_shared() {
    for pidfile in $(find "$shared" -name patroni.log.pid -o -name leaderless.log.pid); do
        kill -TERM "$(cat "$pidfile")" 2>/dev/null || true
    done
    for pidfile in $(find "$shared" -name patroni.log.pid -o -name leaderless.log.pid); do
        for _ in $(seq 300); do kill -0 "$(cat "$pidfile")" 2>/dev/null || break; sleep 0.1; done
    done
    for pidfile in $(find "$shared" -name postmaster.pid); do
        as_postgres=(); [ "$(id -u)" -eq 0 ] && as_postgres=(setpriv --reuid=postgres --regid=postgres --init-groups --)
        (cd / && "${as_postgres[@]}" /usr/lib/postgresql/15/bin/pg_ctl -D "$(dirname "$pidfile")" -m immediate -w stop >/dev/null 2>&1) || true
    done
    for pidfile in $(find "$shared" -name etcd.log.pid); do
        kill -TERM "$(cat "$pidfile")" 2>/dev/null || true
        for _ in $(seq 100); do kill -0 "$(cat "$pidfile")" 2>/dev/null || break; sleep 0.1; done
    done
    rm -rf "$shared"
}
trap stop_shared EXIT
start=$(date +%s)
for project in $projects; do
    config="$out/stryker-$project.json"
    cat > "$config" <<JSON
{ "stryker-config": {
    "project": "$project.csproj",
    "test-projects": ["$PWD/tests/Reconciler.Tests/Reconciler.Tests.csproj"],
    "mutate": ["$mutate"],
    "concurrency": $concurrency,
    "coverage-analysis": "perTest",
    "configuration": "Release",
    "reporters": ["json", "html", "progress", "dots"],
    "test-case-filter": "$filter"
} }
JSON
    (cd "src/$project" && nice -n 19 dotnet dotnet-stryker -f "$PWD/../../$config" -O "$PWD/../../$out/$project") 2>&1 | tee "$out/$project.log" | grep -E "The final mutation score|Killed|Survived|No coverage|Timeout" || true
done
echo "mutation: $(( $(date +%s) - start )) s; reports in $out"
grep -h "The final mutation score" "$out"/*.log || true
