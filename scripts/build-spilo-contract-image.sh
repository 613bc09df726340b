#!/usr/bin/env bash
# Builds the Spilo-contract stand-in (docker/spilo-contract) on top of the PatroniModel image, once, and reuses it while
# its inputs are unchanged (label patroni-model.image-hash: sha256 of docker/spilo-contract/* and the base image id).
# It is what the E2E tests run the Spilo flavor on where no registry serves Spilo; it is not Spilo (see its Dockerfile).
set -euo pipefail
cd "$(dirname "$0")/.."

base=${PATRONI_MODEL_IMAGE:-patroni-model/patroni:latest}
image=${PATRONI_MODEL_SPILO_CONTRACT_IMAGE:-patroni-model/spilo-contract:latest}
context=docker/spilo-contract

if ! docker info >/dev/null 2>&1; then
    echo "build-spilo-contract-image: no Docker engine answers; start one with: sudo scripts/docker-engine.sh (or run ./test.sh as root)" >&2
    exit 1
fi
base_id=$(docker image inspect -f '{{.Id}}' "$base" 2>/dev/null) \
    || { echo "build-spilo-contract-image: the base $base is not built; run scripts/build-image.sh first" >&2; exit 1; }
hash=$( { (cd "$context" && find . -type f | LC_ALL=C sort | xargs sha256sum); echo "$base_id"; } | sha256sum | cut -c1-64)
current=$(docker image inspect -f '{{index .Config.Labels "patroni-model.image-hash"}}' "$image" 2>/dev/null || true)
if [ "$current" = "$hash" ]; then
    echo "build-spilo-contract-image: $image is up to date (hash ${hash:0:12})"
    exit 0
fi
started=$(date +%s)
log=/tmp/patroni-model-spilo-contract-build.log
if ! DOCKER_BUILDKIT=0 docker build --network none --build-arg "BASE=$base" \
        --label "patroni-model.image-hash=$hash" -t "$image" "$context" > "$log" 2>&1; then
    tail -30 "$log" >&2
    echo "build-spilo-contract-image: docker build failed (log: $log)" >&2
    exit 1
fi
echo "build-spilo-contract-image: built $image FROM $base in $(( $(date +%s) - started )) s"
