#!/bin/sh
# Container command of the PatroniModel image. `patroni`: writes $PATRONI_CONFIG_YAML to /etc/patroni/patroni.yml
# and runs Patroni as postgres (PostgreSQL refuses root). `etcd`: runs etcd with the v2 API enabled (Patroni 3.0.2's
# `etcd:` section needs it); its v3 API serves Patroni's `etcd3:` section. Anything else runs as given.
set -e
case "$1" in
    patroni)
        mkdir -p /etc/patroni /var/lib/postgresql/data
        printf '%s\n' "$PATRONI_CONFIG_YAML" > /etc/patroni/patroni.yml
        chown -R postgres:postgres /etc/patroni /var/lib/postgresql
        chmod 700 /var/lib/postgresql/data
        exec runuser -u postgres -- patroni /etc/patroni/patroni.yml
        ;;
    etcd)
        exec etcd --name "${ETCD_MEMBER_NAME:-etcd1}" --data-dir /var/lib/etcd-data \
            --listen-client-urls http://0.0.0.0:2379 --advertise-client-urls "http://${ETCD_MEMBER_NAME:-etcd1}:2379" \
            --listen-peer-urls http://0.0.0.0:2380 --initial-advertise-peer-urls "http://${ETCD_MEMBER_NAME:-etcd1}:2380" \
            --initial-cluster "${ETCD_MEMBER_NAME:-etcd1}=http://${ETCD_MEMBER_NAME:-etcd1}:2380" \
            --enable-v2=true
        ;;
    *)
        exec "$@"
        ;;
esac
