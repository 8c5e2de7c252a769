"""Start-up: the command line and ``import crmcore`` import only what is used."""

from __future__ import annotations

import argparse
import ast
import importlib
import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

import crmcore
from crmcore.cli import COMMANDS, build_parser, main

ROOT = Path(__file__).resolve().parents[1]

COMMAND_MODULES = sorted({command.module for command in COMMANDS.values()})

PLUGIN_LOADING = {"importlib.metadata", "smtplib", "crmcore_plugins.notify_smtp",
                  "crmcore_plugins.notify_webhook", "crmcore_plugins.storage_memory",
                  "crmcore_plugins.calendar_holidays"}
"""What building the plugin manager imports (entry points, every built-in adapter): a
command that only prints its help or reads a stored agenda needs none of it."""

SHARED_COMMAND_MODULES = {"crmcore.cli.importing", "crmcore.cli.reports"}
"""Command modules whose argument helpers other commands import (their --help loads them)."""


def modules_after(code: str) -> set[str]:
    """The modules a fresh interpreter holds after running ``code``."""
    wrapper = (f"import sys\ntry:\n    {code}\nexcept SystemExit:\n    pass\n"
               "names = sorted(sys.modules)\nimport json\nprint(json.dumps(names))\n")
    done = subprocess.run([sys.executable, "-c", wrapper], capture_output=True, text=True,
                          check=True, cwd=ROOT)
    return set(json.loads(done.stdout.splitlines()[-1]))


def run_cli(*argv: str) -> set[str]:
    return modules_after(f"from crmcore.cli import main; main({list(argv)!r})")


@pytest.mark.parametrize("argv", [("--version",), ("--help",)])
def test_version_and_help_import_no_command_and_no_heavy_module(argv: tuple[str, ...]) -> None:
    loaded = run_cli(*argv)
    assert "crmcore.cli" in loaded
    heavy = {"numpy", "sqlite3", "crmcore.app", "crmcore.model", "attrs", "pluggy", "cattrs",
             "crmcore.plugins", "crmcore.config", *PLUGIN_LOADING, *COMMAND_MODULES}
    assert not loaded & heavy


@pytest.mark.parametrize("name", list(COMMANDS))
def test_a_command_help_loads_no_plugin_and_no_other_command(name: str) -> None:
    """``crmcore COMMAND --help`` imports its own module (and what that imports), never
    the plugin manager, the entry points or the adapters, nor the other commands."""
    loaded = run_cli(name, "--help")
    own = COMMANDS[name].module
    assert own in loaded
    assert not loaded & {"pluggy", "crmcore_plugins.storage_sqlite", *PLUGIN_LOADING}
    assert loaded & set(COMMAND_MODULES) - {own} <= SHARED_COMMAND_MODULES


def test_grade_help_imports_grading_only() -> None:
    loaded = run_cli("grade", "--help")
    assert "crmcore.cli.grading" in loaded
    assert not {name for name in loaded
                if name.startswith(("crmcore.lifecycle", "crmcore.policies",
                                    "crmcore.improvement", "crmcore.daily"))}
    assert not loaded & (set(COMMAND_MODULES) - {"crmcore.cli.grading",
                                                 "crmcore.cli.importing"})


def test_import_crmcore_defers_its_exports_until_used() -> None:
    assert not modules_after("import crmcore") & {"crmcore.app", "crmcore.model", "attrs"}
    loaded = modules_after("from crmcore import Customer")
    assert "crmcore.model" in loaded
    assert "crmcore.app" not in loaded


def test_every_public_name_resolves_to_its_module_object() -> None:
    assert set(crmcore.__all__) == {*crmcore._MODULE_OF, "__version__"}
    for name, module in crmcore._MODULE_OF.items():
        assert getattr(crmcore, name) is getattr(importlib.import_module(module), name)
    assert set(crmcore.__all__) <= set(dir(crmcore))
    with pytest.raises(AttributeError, match="no attribute 'nonesuch'"):
        crmcore.nonesuch  # noqa: B018


def test_lazy_table_matches_the_imports_type_checkers_see() -> None:
    tree = ast.parse((ROOT / "src" / "crmcore" / "__init__.py").read_text(encoding="utf-8"))
    guarded = next(node for node in tree.body
                   if isinstance(node, ast.If) and isinstance(node.test, ast.Name)
                   and node.test.id == "TYPE_CHECKING")
    static = {alias.name: node.module for node in guarded.body
              if isinstance(node, ast.ImportFrom) and node.module != "typing"
              for alias in node.names}
    assert static == crmcore._MODULE_OF


@pytest.mark.parametrize("module_name", COMMAND_MODULES)
def test_command_table_lists_what_each_module_registers(module_name: str) -> None:
    commands = argparse.ArgumentParser().add_subparsers()
    importlib.import_module(module_name).add_commands(commands)
    registered = {action.dest: action.help for action in commands._choices_actions}
    listed = {name: command.help for name, command in COMMANDS.items()
              if command.module == module_name}
    assert registered == listed


@pytest.mark.parametrize("name", list(COMMANDS))
def test_a_lazily_loaded_command_has_its_full_help(name: str,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    full = build_parser()
    subparsers = next(action for action in full._actions
                      if isinstance(action, argparse._SubParsersAction))
    with pytest.raises(SystemExit) as done:
        main([name, "--help"])
    assert done.value.code == 0
    assert capsys.readouterr().out == subparsers.choices[name].format_help()


def test_a_command_whose_module_cannot_import_says_what_to_install(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setitem(sys.modules, "crmcore.cli.clv", None)
    with pytest.raises(SystemExit) as done:
        main(["clv", "--help"])
    assert done.value.code == 2
    error = capsys.readouterr().err
    assert "command 'clv' cannot start" in error
    assert "pip install 'crmcore[clv]'" in error
    with pytest.raises(SystemExit):
        main(["--help"])
    assert "clv " in capsys.readouterr().out  # still listed


@pytest.fixture(scope="module")
def stored_agenda_book(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite book whose daily run stored li's agenda as of 2 March 2026."""
    from crmcore import CRM
    from crmcore.daily import store_agendas
    from crmcore.policies import PolicyService, PolicySet

    database = tmp_path_factory.mktemp("agenda") / "crm.db"
    with CRM.open("sqlite", path=str(database)) as crm:
        crm.record(crmcore.Customer(id="C1", name="Acme", owner="li"))
        as_of = datetime(2026, 3, 2, tzinfo=UTC)
        items = PolicyService(crm, PolicySet()).agenda(as_of)
        assert store_agendas(crm, items, as_of=as_of) == 1
    return database


def agenda_json(*argv: str, capsys: pytest.CaptureFixture[str]) -> list[dict[str, object]]:
    assert main(["agenda", *argv, "--owner", "li", "--format", "json"]) == 0
    rows: list[dict[str, object]] = json.loads(capsys.readouterr().out)
    return rows


def test_reading_the_stored_agenda_imports_no_policy_and_no_numpy(
        stored_agenda_book: Path) -> None:
    """An owner's materialised agenda is a read (target <= 100 ms): neither the policies
    that made it, nor numpy (imported by the grading columns when first used), nor the
    plugin manager, the other adapters, the configuration code or cattrs are loaded, nor
    the domain model, the business calendar or zoneinfo; only the SQLite backend."""
    loaded = run_cli("agenda", "--db", str(stored_agenda_book), "--owner", "li",
                     "--format", "json")
    assert "crmcore.cli.agenda" in loaded
    assert "crmcore.daily.agenda_read" in loaded
    assert not loaded & {"numpy", "crmcore.daily.run", "crmcore.daily.agenda_store",
                         "crmcore.daily.records", "crmcore.model", "crmcore.service.calendar",
                         "zoneinfo", "crmcore.policies",
                         "crmcore.policies.service", "crmcore.lifecycle", "crmcore.grading",
                         "crmcore.event_catalogue", "crmcore.config", "crmcore.outbox",
                         "cattrs", *PLUGIN_LOADING}
    assert {name for name in loaded if name.startswith("crmcore_plugins.")} == {
        "crmcore_plugins.storage_sqlite", "crmcore_plugins.sqlite_layout"}  # ADR 0009


def test_the_stored_agenda_reads_the_same_through_a_configuration_file(
        stored_agenda_book: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Storage named by a configuration file still opens (and reads the same rows)."""
    config = tmp_path / "crm.toml"
    config.write_text(f'[storage]\nbackend = "sqlite"\npath = {str(stored_agenda_book)!r}\n',
                      encoding="utf-8")
    by_db = agenda_json("--db", str(stored_agenda_book), capsys=capsys)
    assert by_db
    assert {row["owner"] for row in by_db} == {"li"}
    assert agenda_json("--config", str(config), capsys=capsys) == by_db
