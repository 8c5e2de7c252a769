#!/usr/bin/env bash
# Make sure MariaDB is installed for the MariaDB tests, which start their own throw-away
# server (crmcore.testing.servers.mariadb_server), and the client headers that pip needs to
# build mysqlclient (the driver of Ibis's mysql backend; PyPI has no Linux wheel of it).
# Idempotent: does nothing when mariadbd, mariadb-install-db and mariadb_config exist.
# Debian/Ubuntu (apt-get) only; quiet unless something fails.
set -euo pipefail

have() { command -v "$1" > /dev/null 2>&1 || [ -x "/usr/sbin/$1" ]; }

if have mariadbd && have mariadb-install-db && have mariadb_config && have pkg-config; then
    echo "mariadb.sh: present: $(/usr/sbin/mariadbd --version 2>/dev/null || mariadbd --version)"
    exit 0
fi

. "$(dirname "$0")/apt-install.sh"
apt_install mariadb-server mariadb-client libmariadb-dev pkg-config gcc
# A package install may start the distribution's own server: the tests start their own.
if command -v service > /dev/null 2>&1; then
    as_root service mariadb stop > /dev/null 2>&1 || true
fi
echo "mariadb.sh: installed $(/usr/sbin/mariadbd --version)"
