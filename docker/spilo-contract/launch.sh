#!/bin/sh
# Spilo-contract stand-in: as Spilo's launch.sh, starts as root, makes the SSL certificate when none is given, then
# runs the configuration step and Patroni as postgres. Patroni runs as PID 1 (exec), so it reaps orphans.
set -e
cert=${SSL_CERTIFICATE_FILE:-/run/certs/server.crt}
key=${SSL_PRIVATE_KEY_FILE:-/run/certs/server.key}
if [ ! -f "$key" ]; then
    openssl req -nodes -new -x509 -subj /CN=spilo.dummy.org -keyout "$key" -out "$cert" >/dev/null 2>&1
    chown postgres:postgres "$key" "$cert"
    chmod 600 "$key"
fi
export HOME="${PGHOME:-/home/postgres}" USER=postgres LOGNAME=postgres
exec setpriv --reuid postgres --regid postgres --init-groups python3 /scripts/configure_spilo_contract.py
