#!/usr/bin/env python3
"""Spilo-contract stand-in: renders Patroni's configuration from Spilo's environment contract and execs Patroni.

The subset of zalando/spilo's configure_spilo.py that decides how a cluster behaves under failover: Spilo's
defaults, the DCS from <DCS>_HOST, the credentials, and SPILO_CONFIGURATION merged over the defaults with the
user's values winning (dicts merged recursively, the user's lists kept whole). Backups, cloning, log shipping,
Kubernetes and the cloud providers are left out: PatroniModel never sets them.
"""
import copy
import os
import socket
import sys

import yaml

DCS_NAMES = ('zookeeper', 'exhibitor', 'consul', 'etcd3', 'etcd')


def deep_update(user, spilo):
    """The user's value wins; dicts merge recursively; a user's list replaces Spilo's."""
    if isinstance(user, dict) and isinstance(spilo, dict):
        for key, value in spilo.items():
            user[key] = deep_update(user[key], value) if key in user else value
        return user
    if isinstance(user, list) and isinstance(spilo, list):
        return user
    return user if user is not None else spilo


def memory_mb():
    return os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') // 1048576


def dcs_section(env):
    sections = {}
    for name, value in env.items():
        if '_' not in name:
            continue
        dcs, parameter = name.lower().split('_', 1)
        if dcs in DCS_NAMES:
            sections.setdefault(dcs, {})[parameter] = value
    for dcs in DCS_NAMES:
        if dcs in sections:
            return {dcs: sections[dcs]}
    return {}


def main():
    env = dict(os.environ)
    pghome = env.get('PGHOME', '/home/postgres')
    pgroot = env.get('PGROOT', os.path.join(pghome, 'pgdata', 'pgroot'))
    pgdata = env.get('PGDATA', os.path.join(pgroot, 'data'))
    api_port = int(env.get('APIPORT', '8008'))
    pg_port = int(env.get('PGPORT', '5432'))
    standby_user = env.get('PGUSER_STANDBY', 'standby')
    hostname = socket.gethostname()
    address = socket.getaddrinfo(hostname, 0, socket.AF_UNSPEC, socket.SOCK_STREAM)[0][4][0]
    memory = memory_mb()
    pg_hba = ['local all all trust', 'host all all 127.0.0.1/32 md5', 'host all all ::1/128 md5',
              'hostssl replication {0} all md5'.format(standby_user)]
    if env.get('ALLOW_NOSSL'):
        pg_hba.append('host all all all md5')
    else:
        pg_hba += ['hostnossl all all all reject', 'hostssl all all all md5']
    spilo = {
        'scope': env.get('SCOPE', 'dummy'),
        'name': hostname,
        'restapi': {'listen': ':{0}'.format(api_port), 'connect_address': '{0}:{1}'.format(address, api_port)},
        'bootstrap': {
            'dcs': {
                'ttl': 30, 'loop_wait': 10, 'retry_timeout': 10, 'maximum_lag_on_failover': 33554432,
                'postgresql': {'use_pg_rewind': True, 'use_slots': True, 'parameters': {
                    'archive_mode': 'on', 'archive_timeout': '1800s', 'wal_level': 'hot_standby',
                    'wal_log_hints': 'on', 'max_wal_senders': 10, 'max_replication_slots': 10, 'hot_standby': 'on',
                    'max_connections': min(max(100, memory // 30), 1000)}},
            },
            'initdb': [{'encoding': 'UTF8'}, {'locale': 'C.UTF-8'}, 'data-checksums'],
        },
        'postgresql': {
            'pgpass': '/run/postgresql/pgpass',
            'use_unix_socket': True,
            'listen': '*:{0}'.format(pg_port),
            'connect_address': '{0}:{1}'.format(address, pg_port),
            'data_dir': pgdata,
            'bin_dir': '/usr/lib/postgresql/{0}/bin'.format(env.get('PGVERSION', '15')),
            'parameters': {
                'archive_command': '/bin/true',
                'shared_buffers': '{0}MB'.format(memory // 4),
                'ssl': 'on',
                'ssl_cert_file': env.get('SSL_CERTIFICATE_FILE', '/run/certs/server.crt'),
                'ssl_key_file': env.get('SSL_PRIVATE_KEY_FILE', '/run/certs/server.key'),
            },
            'pg_hba': pg_hba,
            'authentication': {
                'superuser': {'username': env.get('PGUSER_SUPERUSER', 'postgres'),
                              'password': env.get('PGPASSWORD_SUPERUSER', 'zalando')},
                'replication': {'username': standby_user, 'password': env.get('PGPASSWORD_STANDBY', 'standby')},
            },
        },
    }
    spilo.update(dcs_section(env))
    user = yaml.safe_load(env.get('SPILO_CONFIGURATION', '{}')) or {}
    config = deep_update(copy.deepcopy(user), spilo)
    path = os.path.join(pghome, 'postgres.yml')
    with open(path, 'w') as f:
        yaml.safe_dump(config, f, default_flow_style=False)
    os.makedirs(pgroot, mode=0o700, exist_ok=True)
    sys.stdout.flush()
    os.execvp('patroni', ['patroni', path])


if __name__ == '__main__':
    main()
