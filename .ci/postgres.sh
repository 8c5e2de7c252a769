#!/usr/bin/env bash
# Make sure PostgreSQL server binaries (initdb, pg_ctl) are installed for tests/sql,
# which starts its own throw-away server. Idempotent: does nothing when
# /usr/lib/postgresql/*/bin/initdb exists. Debian/Ubuntu (apt-get) only.
set -euo pipefail

if compgen -G "/usr/lib/postgresql/*/bin/initdb" > /dev/null; then
    echo "postgres.sh: server binaries present: $(ls -d /usr/lib/postgresql/*/bin | tr '\n' ' ')"
    exit 0
fi

. "$(dirname "$0")/apt-install.sh"
if apt-cache show postgresql-15 > /dev/null 2>&1; then
    apt_install postgresql-15
else
    apt_install postgresql
fi

if ! compgen -G "/usr/lib/postgresql/*/bin/initdb" > /dev/null; then
    echo "postgres.sh: installed, but no /usr/lib/postgresql/*/bin/initdb was found" >&2
    exit 1
fi
echo "postgres.sh: installed $(ls -d /usr/lib/postgresql/*/bin | tr '\n' ' ')"
