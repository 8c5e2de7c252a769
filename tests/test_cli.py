"""The crmcore command: demo, import, plugins, deliver."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from crmcore import CRM, Customer, Transaction, __version__
from crmcore.cli import main

ROOT = Path(__file__).resolve().parents[1]


def run(*argv: str) -> int:
    return main(list(argv))


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        run("--version")
    assert done.value.code == 0
    assert capsys.readouterr().out.strip() == f"crmcore {__version__}"


def test_demo_twice_neither_fails_nor_duplicates(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    database = str(tmp_path / "demo.db")
    assert run("demo", "--db", database, "--customers", "40", "--seed", "3") == 0
    first = capsys.readouterr().out
    with CRM.open("sqlite", path=database) as crm:
        counts = (crm.count(Customer), crm.count(Transaction))
    assert counts[0] == 40
    assert counts[1] > 40
    assert run("demo", "--db", database, "--customers", "40", "--seed", "3") == 0
    second = capsys.readouterr().out
    with CRM.open("sqlite", path=database) as crm:
        assert (crm.count(Customer), crm.count(Transaction)) == counts
    assert "Stored 0 new records" in second
    for section in ("Book of business", "Revenue", "Purchase rhythm", "Service",
                    "Satisfaction", "Pipeline"):
        assert f"\n{section}\n" in first
    assert first.split("\n\n", 1)[1] == second.split("\n\n", 1)[1]  # same report


def test_demo_with_other_settings_on_the_same_db_explains(tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]
                                                          ) -> None:
    database = str(tmp_path / "demo.db")
    run("demo", "--db", database, "--customers", "5")
    assert run("demo", "--db", database, "--customers", "5", "--seed", "99") == 1
    assert "holds a demo made with other settings" in capsys.readouterr().err


CUSTOMERS = "id,name,kind,annual_turnover,reputation,channels,time_zone\n" \
            "C1,Acme,organisation,60000000,high,email|phone,Asia/Shanghai\n" \
            "C2,Wang Fang,person,,medium,sms,\n"

SALES = "Kunde;Datum;Betrag\nC1;31.01.2025;1.200,50\nC1;31.01.2025;1.200,50\nC2;02.02.2025;80\n"


def test_import_customers_and_transactions_with_other_headers(tmp_path: Path) -> None:
    database = str(tmp_path / "crm.db")
    (tmp_path / "customers.csv").write_text(CUSTOMERS)
    (tmp_path / "sales.csv").write_text(SALES)
    assert run("import", "customers", str(tmp_path / "customers.csv"), "--db", database) == 0
    arguments = ("import", "transactions", str(tmp_path / "sales.csv"), "--db", database,
                 "--customer-col", "Kunde", "--date-col", "Datum", "--amount-col", "Betrag",
                 "--date-format", "%d.%m.%Y", "--time-zone", "Europe/Berlin",
                 "--delimiter", ";", "--decimal-comma")
    assert run(*arguments) == 0
    assert run(*arguments) == 0  # twice: nothing new
    with CRM.open("sqlite", path=database) as crm:
        acme = crm.require(Customer, "C1")
        assert acme.attributes == {"annual_turnover": 60000000, "reputation": "high"}
        assert acme.preferences.channels[0].value == "email"
        sales = crm.find(Transaction)
    assert len(sales) == 3  # two identical purchases on one day stay two
    assert str(sales[0].amount) == "1200.50"
    assert sales[0].occurred_at.isoformat() == "2025-01-30T23:00:00+00:00"


@pytest.mark.parametrize(("content", "message"), [
    ("customer_id,date,amount\nC1,2025-01-01,10\nC1,2025-13-01,10\n",
     "line 3, column 'date': '2025-13-01' is not a date in the format ISO 8601"),
    ("customer_id,date,amount\nC1,2025-01-01,ten\n",
     "line 2, column 'amount': 'ten' is not an amount"),
    ("customer_id,date,amount\nC1,2025-01-01,\"1.250,00\"\n",
     "line 2, column 'amount': '1.250,00' is not an amount"),
    ("customer_id,date,amount\nC1,2025-01-01,-10\n",
     "line 2, column 'amount': '-10' must not be negative"),
    ("customer_id,date,amount,quantity\nC1,2025-01-01,10,-2\n",
     "line 2, column 'quantity': -2 must be at least 0"),
    ("client,date,amount\nC1,2025-01-01,10\n",
     "line 1: the column 'customer_id' is missing from the header"),
    ("customer_id,date,amount\nC1,2025-01-01,10\nC9,2025-01-02,10\n",
     "line 3, column 'customer_id': 'C9' is not a stored customer"),
])
def test_a_bad_row_is_rejected_with_line_column_value_and_nothing_is_stored(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, message: str
) -> None:
    database = str(tmp_path / "crm.db")
    (tmp_path / "customers.csv").write_text(CUSTOMERS)
    run("import", "customers", str(tmp_path / "customers.csv"), "--db", database)
    before = _dump(database)
    (tmp_path / "bad.csv").write_text(content)
    assert run("import", "transactions", str(tmp_path / "bad.csv"), "--db", database) == 1
    assert message in capsys.readouterr().err
    assert _dump(database) == before


def test_create_customers_option_adds_bare_customers(tmp_path: Path) -> None:
    database = str(tmp_path / "crm.db")
    (tmp_path / "sales.csv").write_text("customer_id,date,amount\nN1,2025-01-01,10\n")
    assert run("import", "transactions", str(tmp_path / "sales.csv"), "--db", database,
               "--create-customers") == 0
    with CRM.open("sqlite", path=database) as crm:
        assert crm.require(Customer, "N1").name == "N1"


def _dump(database: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(database) as connection:
        return [*connection.execute(
                    "SELECT kind, id, version, body FROM all_records ORDER BY 1, 2"),
                *connection.execute("SELECT seq, type FROM outbox ORDER BY seq")]


def test_plugins_lists_builtins_as_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert run("plugins", "--format", "json") == 0
    listed = {entry["name"]: entry for entry in json.loads(capsys.readouterr().out)}
    assert listed["crmcore_plugins.storage_sqlite"]["registers"] == {"storage": ["sqlite"]}


@pytest.fixture(scope="module")
def example_plugin_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example plugin distribution, really installed by pip into a folder."""
    target = tmp_path_factory.mktemp("site")
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
         "--no-build-isolation", "--target", str(target), str(ROOT / "examples/plugin-example")],
        check=True, capture_output=True, timeout=300,
    )
    return target


def _crmcore(site: Path, *argv: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), str(ROOT / "src")])}
    env.pop("CRMCORE_DISABLE_PLUGIN_AUTOLOAD", None)
    return subprocess.run([sys.executable, "-m", "crmcore.cli", *argv], capture_output=True,
                          text=True, env=env, cwd=cwd, timeout=120)


def test_a_separately_installed_plugin_shows_up_and_its_notifier_is_chosen_by_name(
    example_plugin_site: Path, tmp_path: Path
) -> None:
    listed = _crmcore(example_plugin_site, "plugins", cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert "crmcore-example-plugin 0.1.0" in listed.stdout
    assert "notifiers: jsonl" in listed.stdout
    (tmp_path / "crm.toml").write_text('[storage]\npath = "crm.db"\n\n'
                                       '[[notifiers]]\nuse = "jsonl"\npath = "events.jsonl"\n')
    (tmp_path / "customers.csv").write_text(CUSTOMERS)
    imported = _crmcore(example_plugin_site, "import", "customers", "customers.csv",
                        "--config", "crm.toml", cwd=tmp_path)
    assert imported.returncode == 0, imported.stderr
    events = [json.loads(line) for line in (tmp_path / "events.jsonl").read_text().splitlines()]
    assert [(e["type"], e["data"]["rows"]) for e in events] == [("customer.imported", 2)]
