"""Plugins add commands to ``crmcore`` through ``crmcore_register_commands``.

The plugin here is a real distribution: a module and its ``.dist-info`` with an
entry point in the ``crmcore`` group, put on ``PYTHONPATH`` of a fresh interpreter,
so ``importlib.metadata`` finds it as it finds a pip-installed one.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from crmcore.cli import COMMANDS
from crmcore.cli.plugin_commands import add_plugin_commands, help_line
from crmcore.errors import PluginError
from crmcore.hookspecs import CommandRun, hookimpl
from crmcore.plugins import PluginHost, make_plugin_manager

ROOT = Path(__file__).resolve().parents[2]

GREETER = '''\
"""A third-party plugin adding the command ``hello``."""
from crmcore import hookimpl


def open_hello(parser):
    """Greet someone by name.

    Says hello and exits with the status given.
    """
    parser.add_argument("--name", default="world")
    parser.add_argument("--status", type=int, default=0)

    def run(arguments):
        print(f"hello {arguments.name}")
        return arguments.status

    return run


@hookimpl
def crmcore_register_commands(register):
    register("hello", open_hello)
'''


def install_plugin(folder: Path, module: str, source: str) -> None:
    """Put module ``module`` and a distribution declaring it as a crmcore entry point
    into ``folder``."""
    (folder / f"{module}.py").write_text(source, encoding="utf-8")
    info = folder / f"{module}-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {module}\nVersion: 0.1\n",
                                   encoding="utf-8")
    (info / "entry_points.txt").write_text(f"[crmcore]\n{module} = {module}\n",
                                           encoding="utf-8")


def crmcore(folder: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    """``crmcore ARGV`` in a fresh interpreter that sees the plugins in ``folder``."""
    environment = {**os.environ, "PYTHONPATH": str(folder)}
    environment.pop("CRMCORE_DISABLE_PLUGIN_AUTOLOAD", None)
    code = "import sys; from crmcore.cli import main; sys.exit(main(sys.argv[1:]))"
    return subprocess.run([sys.executable, "-c", code, *argv], capture_output=True,
                          text=True, cwd=ROOT, env=environment, check=False)


@pytest.fixture
def plugins(tmp_path: Path) -> Path:
    install_plugin(tmp_path, "crmcore_greeter", GREETER)
    return tmp_path


def test_an_installed_plugin_command_runs_with_its_arguments(plugins: Path) -> None:
    done = crmcore(plugins, "hello", "--name", "Zhāng", "--status", "3")
    assert (done.stdout, done.stderr, done.returncode) == ("hello Zhāng\n", "", 3)


def test_a_plugin_command_has_its_help_from_the_factory(plugins: Path) -> None:
    done = crmcore(plugins, "hello", "--help")
    assert done.returncode == 0
    assert "--name NAME" in done.stdout
    assert "Says hello and exits with the status given." in done.stdout


def test_plugins_lists_the_command_and_its_distribution(plugins: Path) -> None:
    done = crmcore(plugins, "plugins", "--format", "json")
    listed = {plugin["name"]: plugin for plugin in json.loads(done.stdout)}
    assert listed["crmcore_greeter"]["registers"] == {"commands": ["hello"]}
    assert listed["crmcore_greeter"]["distribution"] == "crmcore_greeter"


def test_a_builtin_command_does_not_load_entry_points(plugins: Path) -> None:
    """A broken plugin does not stop a built-in command: its entry point is never loaded."""
    install_plugin(plugins, "crmcore_broken", "raise RuntimeError('broken plugin')\n")
    assert crmcore(plugins, "events", "--format", "json").returncode == 0
    done = crmcore(plugins, "hello")
    assert done.returncode != 0
    assert "plugin 'crmcore_broken'" in done.stderr
    assert "broken plugin" in done.stderr
    assert "Traceback" not in done.stderr


def test_an_unknown_command_is_still_a_usage_error(tmp_path: Path) -> None:
    done = crmcore(tmp_path, "nosuch")
    assert done.returncode == 2
    assert "invalid choice: 'nosuch'" in done.stderr


class Clashing:
    """A plugin registering a command under a built-in's name."""

    @hookimpl
    def crmcore_register_commands(self, register: object) -> None:
        def open_grade(parser: object) -> CommandRun:
            """Grade differently."""
            return lambda arguments: 0

        register("grade", open_grade)  # type: ignore[operator]


def test_a_plugin_cannot_take_a_builtin_command_name() -> None:
    import argparse

    host = PluginHost(make_plugin_manager(load_entry_points=False,
                                          extra_plugins=[Clashing()]))
    commands = argparse.ArgumentParser().add_subparsers()
    with pytest.raises(PluginError, match=r"Clashing.* registers the command 'grade', which is "
                                          r"a built-in command"):
        add_plugin_commands(commands, host, builtins=frozenset(COMMANDS))


def test_help_line_is_the_docstring_first_line() -> None:
    def factory(parser: object) -> CommandRun:
        """  Count things.

        At length.
        """
        return lambda arguments: 0

    assert help_line(factory) == "Count things."
