"""The project keeps its promises to newcomers: README commands and CI agree."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _shell_blocks(markdown: str) -> list[str]:
    return [block.strip() for block in re.findall(r"```sh\n(.*?)```", markdown, re.S)]


def test_readme_first_screen_has_the_install_and_test_commands() -> None:
    readme = (ROOT / "README.md").read_text()
    first_screen = "\n".join(readme.splitlines()[:30])
    install, tests = _shell_blocks(first_screen)[:2]
    assert "crmcore demo" in install
    assert "pytest" in tests


def test_ci_runs_the_readme_test_command_and_fails_on_no_tests() -> None:
    readme_test_command = _shell_blocks((ROOT / "README.md").read_text())[1]
    ci = (ROOT / ".ci" / "run").read_text()
    assert readme_test_command in ci.splitlines()
    assert '"$status" -eq 5' in ci
