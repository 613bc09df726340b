#!/usr/bin/env bash
# Mutation score of the product (src/Reconciler, src/Consumer) with Stryker.NET (dotnet-stryker, pinned in
# .config/dotnet-tools.json), tests/Reconciler.Tests as the test runner. Not part of test.sh (see README: Mutation score).
#   scripts/mutation.sh                         every file of src/Reconciler and src/Consumer, every test (slow: real cluster)
#   scripts/mutation.sh fast                    only the tests that need no PostgreSQL (unit tests), every file
#   MUTATE='**/Reports/*.cs' scripts/mutation.sh fast    one folder while iterating
# Concurrency 1: the machine's 2 cores are shared. Prints one line per project and the score; reports in artifacts/mutation/.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-all}
mutate=${MUTATE:-**/*.cs}
out=artifacts/mutation/$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$out"
dotnet tool restore >/dev/null
filter=""
if [ "$mode" = fast ]; then
    filter='FullyQualifiedName~WalGapBoundaryTests|FullyQualifiedName~IgnoreSlotRuleTests|FullyQualifiedName~SlotProtectionTests|FullyQualifiedName~FilePositionStore'
fi
start=$(date +%s)
for project in Reconciler Consumer; do
    config="$out/stryker-$project.json"
    cat > "$config" <<JSON
{ "stryker-config": {
    "project": "$project.csproj",
    "test-projects": ["$PWD/tests/Reconciler.Tests/Reconciler.Tests.csproj"],
    "mutate": ["$mutate"],
    "concurrency": 1,
    "configuration": "Release",
    "reporters": ["json", "html", "progress"],
    "test-case-filter": "$filter"
} }
JSON
    (cd "src/$project" && dotnet dotnet-stryker -f "$PWD/../../$config" -O "$PWD/../../$out/$project") 2>&1 | tee "$out/$project.log" | grep -E "The final mutation score|Killed|Survived|No coverage|Timeout" || true
done
echo "mutation: $(( $(date +%s) - start )) s; reports in $out"
grep -h "The final mutation score" "$out"/*.log || true
