#!/usr/bin/env bash
# Builds the PatroniModel real-cluster image (docker/patroni) once and reuses it while its inputs are unchanged:
# the image carries the sha256 of docker/patroni/* in the label patroni-model.image-hash.
# No registry is needed: the base is a debootstrap'ed bookworm root (--variant=minbase) imported with docker import,
# unless PATRONI_MODEL_BASE_IMAGE names a base image the engine already has or can pull (e.g. debian:bookworm-slim).
set -euo pipefail
cd "$(dirname "$0")/.."

# PATRONI_MODEL_FLAVOR=pg17 builds the PostgreSQL 17 image instead: Debian trixie, PostgreSQL 17, Patroni 4.0, etcd 3.5.
flavor=${PATRONI_MODEL_FLAVOR:-pg15}
context=docker/patroni
mirror=${PATRONI_MODEL_DEBIAN_MIRROR:-http://deb.debian.org/debian}
case "$flavor" in
    pg15)
        image=${PATRONI_MODEL_IMAGE:-patroni-model/patroni:latest}
        base=${PATRONI_MODEL_BASE_IMAGE:-patroni-model/bookworm-base:latest}
        suite=bookworm; sources=sources.list; packages=packages.pinned ;;
    pg17)
        image=${PATRONI_MODEL_PG17_IMAGE:-patroni-model/patroni-pg17:latest}
        base=${PATRONI_MODEL_PG17_BASE_IMAGE:-patroni-model/trixie-base:latest}
        suite=trixie; sources=sources-trixie.list; packages=packages-pg17.pinned ;;
    *)
        echo "build-image: PATRONI_MODEL_FLAVOR must be pg15 or pg17, got '$flavor'" >&2; exit 2 ;;
esac

if ! docker info >/dev/null 2>&1; then
    echo "build-image: no Docker engine answers; start one with: sudo scripts/docker-engine.sh (or run ./test.sh as root)" >&2
    exit 1
fi

hash=$(cd "$context" && sha256sum Dockerfile entrypoint.sh "$sources" "$packages" | sha256sum | cut -c1-64)
current=$(docker image inspect -f '{{index .Config.Labels "patroni-model.image-hash"}}' "$image" 2>/dev/null || true)
if [ "$current" = "$hash" ]; then
    echo "build-image: $image is up to date (hash ${hash:0:12}); packages:"
    docker run --rm --network none "$image" cat /etc/patroni-model-packages | sed 's/^/  /'
    exit 0
fi

started=$(date +%s)
if ! docker image inspect "$base" >/dev/null 2>&1; then
    if [ -n "${PATRONI_MODEL_BASE_IMAGE:-}" ] && [ "$flavor" = pg15 ]; then
        echo "build-image: pulling $base"
        docker pull "$base" || { echo "build-image: cannot pull $base (no registry?); unset PATRONI_MODEL_BASE_IMAGE to build the base with debootstrap" >&2; exit 1; }
    else
        if ! command -v debootstrap >/dev/null; then
            echo "build-image: debootstrap is missing; install it with: sudo apt-get install -y debootstrap (or run ./test.sh as root)" >&2
            exit 1
        fi
        if [ "$(id -u)" -ne 0 ]; then
            echo "build-image: making the base image needs root (debootstrap); run: sudo scripts/build-image.sh" >&2
            exit 1
        fi
        root=$(mktemp -d "/tmp/patroni-model-$suite.XXXXXX")
        trap 'rm -rf "$root"' EXIT
        echo "build-image: debootstrap --variant=minbase $suite from $mirror (about a minute)"
        debootstrap --variant=minbase "$suite" "$root" "$mirror" > /tmp/patroni-model-debootstrap.log 2>&1 \
            || { tail -20 /tmp/patroni-model-debootstrap.log >&2; echo "build-image: debootstrap failed (log: /tmp/patroni-model-debootstrap.log)" >&2; exit 1; }
        rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
        tar -C "$root" -c . | docker import -c 'CMD ["/bin/bash"]' - "$base" >/dev/null
        rm -rf "$root"
        trap - EXIT
        echo "build-image: base $base imported after $(( $(date +%s) - started )) s"
    fi
fi

echo "build-image: building $image FROM $base (hash ${hash:0:12})"
log=/tmp/patroni-model-build-$flavor.log
if ! DOCKER_BUILDKIT=0 docker build --network host --build-arg "BASE=$base" --build-arg "SOURCES=$sources" --build-arg "PACKAGES=$packages" \
        --label "patroni-model.image-hash=$hash" -t "$image" "$context" > "$log" 2>&1; then
    tail -30 "$log" >&2
    echo "build-image: docker build failed (log: $log)" >&2
    exit 1
fi
grep -q "^WARNING: a pinned version" "$log" && echo "build-image: WARNING: a pinned version was gone from the mirror; update $context/$packages with the versions below" >&2
echo "build-image: built $image in $(( $(date +%s) - started )) s; resolved packages:"
docker run --rm --network none "$image" cat /etc/patroni-model-packages | sed 's/^/  /'
docker image prune -f --filter "label=patroni-model.image-hash" >/dev/null 2>&1 || true
