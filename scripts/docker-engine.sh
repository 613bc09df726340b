#!/usr/bin/env bash
# Finds a Docker engine for the E2E tests, or starts one. Uses DOCKER_HOST or /var/run/docker.sock when an engine
# answers there; otherwise, as root, starts Debian's dockerd with iptables off and overlay2 (docker/README.md) in the
# background, logging to /var/log/patroni-model-dockerd.log, waits until it answers, and leaves it running.
set -euo pipefail

log=${PATRONI_MODEL_DOCKERD_LOG:-/var/log/patroni-model-dockerd.log}

if docker info >/dev/null 2>&1; then
    echo "docker-engine: engine answers ($(docker version -f 'server {{.Server.Version}}, API {{.Server.APIVersion}}' 2>/dev/null))"
    exit 0
fi
if [ -n "${DOCKER_HOST:-}" ]; then
    echo "docker-engine: DOCKER_HOST=$DOCKER_HOST does not answer; start that engine or unset DOCKER_HOST" >&2
    exit 1
fi
if ! command -v dockerd >/dev/null; then
    echo "docker-engine: no Docker engine answers and dockerd is not installed; install it with: sudo apt-get install -y docker.io (or run ./test.sh as root)" >&2
    exit 1
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "docker-engine: no Docker engine answers on /var/run/docker.sock; start one with: sudo scripts/docker-engine.sh (or run ./test.sh as root)" >&2
    exit 1
fi

# overlay2 first (a container costs nothing to create); vfs when overlay2 can't run here (e.g. on an overlay root
# filesystem): it works everywhere but copies the whole image per container (about 5 s and 1.1 GB each, measured here).
for driver in overlay2 vfs; do
    echo "docker-engine: starting dockerd --iptables=false --storage-driver=$driver (log: $log)"
    setsid dockerd --iptables=false --storage-driver="$driver" >>"$log" 2>&1 < /dev/null &
    pid=$!
    for _ in $(seq 1 120); do
        if docker info >/dev/null 2>&1; then
            echo "docker-engine: engine answers ($(docker version -f 'server {{.Server.Version}}, API {{.Server.APIVersion}}'), storage driver $driver)"
            exit 0
        fi
        if ! kill -0 "$pid" 2>/dev/null; then
            echo "docker-engine: dockerd with $driver exited; last log lines:" >&2
            tail -5 "$log" >&2
            break
        fi
        sleep 0.5
    done
    if kill -0 "$pid" 2>/dev/null; then
        echo "docker-engine: dockerd did not answer within 60 s; last log lines:" >&2
        tail -20 "$log" >&2
        exit 1
    fi
done
echo "docker-engine: dockerd could not start (log: $log)" >&2
exit 1
