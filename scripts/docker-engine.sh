#!/usr/bin/env bash
# Finds a Docker engine for the E2E tests, or starts one. Uses DOCKER_HOST or /var/run/docker.sock when an engine
# answers there; otherwise, as root, starts Debian's dockerd with iptables off and overlay2 (see DOMAIN.md) in the
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

echo "docker-engine: starting dockerd --iptables=false --storage-driver=overlay2 (log: $log)"
setsid dockerd --iptables=false --storage-driver=overlay2 >>"$log" 2>&1 < /dev/null &
for _ in $(seq 1 120); do
    if docker info >/dev/null 2>&1; then
        echo "docker-engine: engine answers ($(docker version -f 'server {{.Server.Version}}, API {{.Server.APIVersion}}'))"
        exit 0
    fi
    sleep 0.5
done
echo "docker-engine: dockerd did not answer within 60 s; last log lines:" >&2
tail -20 "$log" >&2
exit 1
