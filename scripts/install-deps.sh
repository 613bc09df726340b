#!/usr/bin/env bash
# Installs the Debian packages the tests need when they are missing: PostgreSQL 15, Patroni, etcd (the reconciler's
# local test cluster), the Docker engine plus debootstrap (the real-cluster oracle), and prometheus for promtool (the exporter
# test checks its output with `promtool check metrics`; the service is not started). Needs root on Debian bookworm.
set -euo pipefail

needed=(postgresql-15 patroni etcd-server etcd-client python3-etcd docker.io debootstrap curl prometheus)
missing=()
for package in "${needed[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$package")
    fi
done
if [ ${#missing[@]} -eq 0 ]; then
    echo "install-deps: all packages present"
    exit 0
fi
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
    echo "install-deps: missing ${missing[*]}; install them with: sudo apt-get install -y ${missing[*]}" >&2
    exit 1
fi
echo "install-deps: installing ${missing[*]}"
# No service starts at install time and no default PostgreSQL cluster is made: the tests start what they need.
mkdir -p /etc/postgresql-common
grep -qs '^create_main_cluster = false' /etc/postgresql-common/createcluster.conf \
    || echo 'create_main_cluster = false' >> /etc/postgresql-common/createcluster.conf
policy_created=0
if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    policy_created=1
fi
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/tmp/patroni-model-apt.log 2>&1 \
    || { tail -20 /tmp/patroni-model-apt.log >&2; echo "install-deps: apt-get install failed (log: /tmp/patroni-model-apt.log)" >&2; exit 1; }
if [ "$policy_created" -eq 1 ]; then
    rm -f /usr/sbin/policy-rc.d
fi
echo "install-deps: done"
