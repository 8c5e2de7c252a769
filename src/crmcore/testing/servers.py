"""Throw-away engines for tests: a MariaDB server and a local Spark session.

Each starts on loopback only, in a temporary folder of its own, and is gone
at the end of the ``with`` block::

    from crmcore.testing.servers import mariadb_server, spark_session

    with mariadb_server() as server:      # Debian's mariadb-server, started here
        engine = sqlalchemy.create_engine(server.sqlalchemy_url)

    with spark_session() as spark:        # PySpark in local mode, Java 17+
        ...

A database server refuses to run as root: as root, the data folder belongs to
the ``mysql`` system user (created when missing) and ``mariadbd --user``
drops to it. :func:`find_mariadb` and :func:`find_java` tell whether the
pieces are installed, so a test can skip with the reason when they are not.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

MARIADB_SYSTEM_USER = "mysql"
"""The system user a MariaDB server runs as when the tests run as root."""

_MARIADB_FOLDERS = ("/usr/sbin", "/usr/bin", "/usr/local/bin", "/usr/local/mysql/bin")


@attrs.frozen
class MariaDbServer:
    """Where a running throw-away MariaDB server listens, and an account on it.

    ``user`` owns ``database`` (all privileges on it) and logs in with
    ``password`` over TCP on ``host``:``port``.
    """

    host: str
    port: int
    user: str
    password: str
    database: str
    socket: Path

    @property
    def sqlalchemy_url(self) -> str:
        """A SQLAlchemy URL for the ``mysqlclient`` driver."""
        return (f"mysql+mysqldb://{self.user}:{self.password}@{self.host}:{self.port}/"
                f"{self.database}?charset=utf8mb4")

    @property
    def ibis_url(self) -> str:
        """An ``ibis.connect`` URL."""
        return f"mysql://{self.user}:{self.password}@{self.host}:{self.port}/{self.database}"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def find_mariadb() -> tuple[Path, Path, Path] | None:
    """``(mariadbd, mariadb-install-db, mariadb client)`` when all three are installed."""
    found: list[Path] = []
    for names in (("mariadbd", "mysqld"), ("mariadb-install-db", "mysql_install_db"),
                  ("mariadb", "mysql")):
        path = next((Path(folder) / name for name in names for folder in _MARIADB_FOLDERS
                     if (Path(folder) / name).is_file()), None)
        if path is None:
            which = next((shutil.which(name) for name in names if shutil.which(name)), None)
            if which is None:
                return None
            path = Path(which)
        found.append(path)
    return found[0], found[1], found[2]


def _ensure_system_user(name: str) -> pwd.struct_passwd:
    try:
        return pwd.getpwnam(name)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/bin/false",
                        name], check=True)
        return pwd.getpwnam(name)


def _run(command: list[str], **kwargs: Any) -> str:
    done: subprocess.CompletedProcess[str] = subprocess.run(
        command, capture_output=True, text=True, **kwargs)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed ({done.returncode}):\n"
                           f"{done.stdout}\n{done.stderr}")
    return done.stdout


def _wait_until_ready(client: Path, sock: Path, server: subprocess.Popen[bytes], log: Path,
                      timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if server.poll() is not None:
            raise RuntimeError(f"mariadbd exited ({server.returncode}):\n"
                               f"{log.read_text(errors='replace')[-3000:]}")
        probe = subprocess.run([str(client), "--no-defaults", f"--socket={sock}", "-uroot",
                                "-e", "SELECT 1"], capture_output=True)
        if probe.returncode == 0:
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"mariadbd did not answer within {timeout:.0f} s:\n"
                               f"{log.read_text(errors='replace')[-3000:]}")
        time.sleep(0.2)


def _load_utc_zone(client: Path, sock: Path) -> None:
    """Name the ``UTC`` zone (clients such as Ibis set it per session); no-op without tzdata."""
    tzinfo_to_sql = shutil.which("mariadb-tzinfo-to-sql") or shutil.which("mysql_tzinfo_to_sql")
    zone_file = Path("/usr/share/zoneinfo/UTC")
    if tzinfo_to_sql is None or not zone_file.is_file():
        return
    statements = _run([tzinfo_to_sql, str(zone_file), "UTC"])
    _run([str(client), "--no-defaults", f"--socket={sock}", "-uroot", "mysql"],
         input=statements)


@contextmanager
def mariadb_server(database: str = "crmcore", *, timeout: float = 60.0
                   ) -> Iterator[MariaDbServer]:
    """Start a private MariaDB server on 127.0.0.1 and a free port; stop it and delete it after.

    The server keeps its data, socket and log in a new temporary folder, in
    UTC, with durability off (it is thrown away). Raises ``RuntimeError`` with
    the server's log when it does not start, and ``FileNotFoundError`` when
    MariaDB is not installed (see :func:`find_mariadb`).
    """
    binaries = find_mariadb()
    if binaries is None:
        raise FileNotFoundError("MariaDB server binaries (mariadbd, mariadb-install-db, "
                                "mariadb) are not installed")
    mariadbd, install_db, client = binaries
    root = Path(tempfile.mkdtemp(prefix="crmcore-mariadb-"))
    data, sock, log = root / "data", root / "mariadb.sock", root / "server.log"
    if os.geteuid() == 0:
        account = _ensure_system_user(MARIADB_SYSTEM_USER)
        os.chown(root, account.pw_uid, account.pw_gid)
        run_as = MARIADB_SYSTEM_USER
    else:
        run_as = pwd.getpwuid(os.geteuid()).pw_name
    root.chmod(0o700)
    server: subprocess.Popen[bytes] | None = None
    try:
        _run([str(install_db), "--no-defaults", f"--datadir={data}", f"--user={run_as}",
              "--auth-root-authentication-method=normal", "--skip-test-db",
              "--skip-name-resolve"], cwd=root)
        port = free_port()
        with log.open("wb") as log_file:
            server = subprocess.Popen(
                [str(mariadbd), "--no-defaults", f"--datadir={data}", f"--user={run_as}",
                 "--bind-address=127.0.0.1", f"--port={port}", f"--socket={sock}",
                 f"--pid-file={root / 'mariadb.pid'}", f"--log-error={log}",
                 "--skip-name-resolve", "--skip-log-bin", "--default-time-zone=+00:00",
                 "--character-set-server=utf8mb4", "--collation-server=utf8mb4_bin",
                 "--innodb-flush-log-at-trx-commit=0", "--innodb-doublewrite=0",
                 "--innodb-buffer-pool-size=128M", "--performance-schema=OFF"],
                stdout=log_file, stderr=subprocess.STDOUT)
        _wait_until_ready(client, sock, server, log, timeout)
        password = "crmcore-test"
        _run([str(client), "--no-defaults", f"--socket={sock}", "-uroot", "-e",
              f"CREATE DATABASE `{database}` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin; "
              f"CREATE USER 'crmcore'@'127.0.0.1' IDENTIFIED BY '{password}'; "
              f"GRANT ALL ON *.* TO 'crmcore'@'127.0.0.1'"])
        _load_utc_zone(client, sock)
        yield MariaDbServer("127.0.0.1", port, "crmcore", password, database, sock)
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        shutil.rmtree(root, ignore_errors=True)


def find_java(minimum: int = 17) -> Path | None:
    """The ``java`` that Spark would start (``$JAVA_HOME/bin/java`` or ``PATH``) if it is
    version ``minimum`` or newer."""
    home = os.environ.get("JAVA_HOME")
    java = Path(home) / "bin" / "java" if home else None
    if java is None or not java.is_file():
        which = shutil.which("java")
        java = Path(which) if which else None
    if java is None:
        return None
    done = subprocess.run([str(java), "-version"], capture_output=True, text=True)
    for word in done.stderr.split():
        text = word.strip('"')
        if text and text[0].isdigit():
            major = text.split(".")[0] if not text.startswith("1.") else text.split(".")[1]
            return java if major.isdigit() and int(major) >= minimum else None
    return None


@contextmanager
def spark_session(cores: int = 2, *, app_name: str = "crmcore-tests"
                  ) -> Iterator[SparkSession]:
    """A PySpark session in local mode (``local[cores]``), on loopback only; stopped after.

    Small shuffles (``cores`` partitions), no web UI, no progress bars, logs at
    ERROR, times in UTC; tables go to a temporary folder, deleted after.
    Needs ``pyspark`` and Java 17 or newer.
    """
    from pyspark.sql import SparkSession

    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    scratch = Path(tempfile.mkdtemp(prefix="crmcore-spark-"))
    session = (
        SparkSession.builder.master(f"local[{cores}]").appName(app_name)
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", str(cores))
        .config("spark.default.parallelism", str(cores))
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.driver.memory", "1g")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.sql.warehouse.dir", str(scratch / "warehouse"))
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    try:
        yield session
    finally:
        session.stop()
        shutil.rmtree(scratch, ignore_errors=True)
