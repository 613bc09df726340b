#!/bin/sh
# Container command of the PatroniModel image; the container runs as postgres (PostgreSQL refuses root).
# `patroni`: writes $PATRONI_CONFIG_YAML to /etc/patroni/patroni.yml and execs Patroni as PID 1: Patroni then forks
# itself and reaps orphans, so a postmaster that exits while Patroni waits for it (a demotion during a partition) does
# not stay a zombie that Patroni waits on forever. `etcd`: runs etcd with the v2 API enabled (Patroni 3.0.2's `etcd:`
# section needs it); its v3 API serves Patroni's `etcd3:` section. Anything else runs as given.
set -e
case "$1" in
    patroni)
        printf '%s\n' "$PATRONI_CONFIG_YAML" > /etc/patroni/patroni.yml
        mkdir -p /var/lib/postgresql/data
        chmod 700 /var/lib/postgresql/data
        exec patroni /etc/patroni/patroni.yml
        ;;
    etcd)
        exec etcd --name "${ETCD_MEMBER_NAME:-etcd1}" --data-dir /tmp/etcd-data \
            --listen-client-urls http://0.0.0.0:2379 --advertise-client-urls "http://${ETCD_MEMBER_NAME:-etcd1}:2379" \
            --listen-peer-urls http://0.0.0.0:2380 --initial-advertise-peer-urls "http://${ETCD_MEMBER_NAME:-etcd1}:2380" \
            --initial-cluster "${ETCD_MEMBER_NAME:-etcd1}=http://${ETCD_MEMBER_NAME:-etcd1}:2380" \
            --enable-v2=true
        ;;
    *)
        exec "$@"
        ;;
esac
