"""A real PostgreSQL server for the SQL adapter's tests, started once per test session.

``CRMCORE_TEST_POSTGRES_URL`` (a SQLAlchemy URL) names a server to use instead;
the tests then work in schemas of their own and drop them afterwards.
Otherwise the server binaries are looked up under ``/usr/lib/postgresql/*/bin``;
without them the PostgreSQL tests are skipped, unless the ``CI`` environment
variable is set (CI must have them: ``.ci/postgres.sh`` installs them).
PostgreSQL refuses to run as root, so as root the data folder belongs to the
``postgres`` system user and the server runs through ``runuser``.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

try:
    import sqlalchemy as sa
except ImportError:  # without the sql extra there is nothing here to test
    collect_ignore_glob = ["test_*.py"]

URL_ENV = "CRMCORE_TEST_POSTGRES_URL"
SERVER_USER = "postgres"


def _binaries() -> Path | None:
    """The newest PostgreSQL server's ``bin`` folder that has initdb and pg_ctl."""
    found = [Path(p).parent for p in glob.glob("/usr/lib/postgresql/*/bin/initdb")
             if (Path(p).parent / "pg_ctl").exists()]
    found.sort(key=lambda folder: int(folder.parent.name) if folder.parent.name.isdigit() else 0)
    return found[-1] if found else None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _as_server_user(command: list[str]) -> list[str]:
    """Run ``command`` as the postgres user when we are root (initdb refuses root)."""
    if os.geteuid() != 0:
        return command
    return ["runuser", "-u", SERVER_USER, "--", *command]


def _ensure_server_user() -> None:
    try:
        pwd.getpwnam(SERVER_USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/bin/false",
                        SERVER_USER], check=True)


def _run(command: list[str]) -> None:
    done = subprocess.run(_as_server_user(command), capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed ({done.returncode}):\n"
                           f"{done.stdout}\n{done.stderr}")


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """The SQLAlchemy URL of a PostgreSQL server for this test session."""
    given = os.environ.get(URL_ENV)
    if given:
        yield given
        return
    binaries = _binaries()
    if binaries is None:
        message = ("PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin "
                   "(install them with .ci/postgres.sh, or set "
                   f"{URL_ENV} to a server's SQLAlchemy URL)")
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the PostgreSQL tests: {message}")
        pytest.skip(message)
    root = Path(tempfile.mkdtemp(prefix="crmcore-pg-"))
    data, sockets = root / "data", root / "sockets"
    sockets.mkdir()
    if os.geteuid() == 0:
        _ensure_server_user()
        entry = pwd.getpwnam(SERVER_USER)
        for path in (root, sockets):
            os.chown(path, entry.pw_uid, entry.pw_gid)
    root.chmod(0o700)
    pg_ctl = str(binaries / "pg_ctl")
    try:
        _run([str(binaries / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust",
              "--encoding=UTF8", "--locale=C", "--no-sync"])
        for attempt in range(3):
            port = _free_port()
            settings = (f"-c listen_addresses=127.0.0.1 -p {port} -k {sockets} "
                        "-c fsync=off -c synchronous_commit=off -c full_page_writes=off")
            try:
                _run([pg_ctl, "-D", str(data), "-l", str(root / "server.log"), "-w",
                      "-t", "60", "-o", settings, "start"])
                break
            except RuntimeError:
                if attempt == 2:
                    log = (root / "server.log").read_text(errors="replace")[-3000:]
                    raise RuntimeError(f"PostgreSQL did not start:\n{log}") from None
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    finally:
        if (data / "postmaster.pid").exists():
            subprocess.run(_as_server_user([pg_ctl, "-D", str(data), "-m", "fast", "-w",
                                            "stop"]), capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_engine(postgres_url: str) -> Iterator[sa.Engine]:
    """An engine on the session's server, for setting up and dropping test schemas."""
    engine = sa.create_engine(postgres_url)
    yield engine
    engine.dispose()


@pytest.fixture
def pg_schema(postgres_engine: sa.Engine) -> Iterator[str]:
    """The name of a fresh schema (created by whoever uses it), dropped after the test."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    yield name
    with postgres_engine.begin() as connection:
        connection.execute(sa.text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))


@pytest.fixture(params=["postgresql", "sqlite"])
def sql_target(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, str | None]:
    """``(url, schema)`` of an empty place for crmcore's tables: PostgreSQL, then SQLite."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'crm.db'}", None
    url: str = request.getfixturevalue("postgres_url")
    schema: str = request.getfixturevalue("pg_schema")
    return url, schema
