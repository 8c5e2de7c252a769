"""``.. crmcore-cli-help:: COMMAND``: the ``--help`` text of a crmcore command.

Generated from the argument parser at build time, so the reference never
drifts from the command line. Without an argument it shows the top-level help.
"""

from __future__ import annotations

import argparse
import os

from docutils import nodes
from docutils.parsers.rst import Directive
from sphinx.application import Sphinx


def _help_text(command: str | None) -> str:
    from crmcore.cli import build_parser

    parser = build_parser()
    if command is None:
        return parser.format_help()
    for action in parser._actions:  # argparse has no public accessor
        if isinstance(action, argparse._SubParsersAction) and command in action.choices:
            return str(action.choices[command].format_help())
    raise ValueError(f"crmcore has no command {command!r}")


class CliHelp(Directive):
    """Render ``crmcore [COMMAND] --help`` as a literal block."""

    optional_arguments = 1

    def run(self) -> list[nodes.Node]:
        os.environ["COLUMNS"] = "88"
        command = self.arguments[0] if self.arguments else None
        try:
            text = _help_text(command)
        except ValueError as error:
            return [self.state.document.reporter.error(str(error), line=self.lineno)]
        block = nodes.literal_block(text, text)
        block["language"] = "text"
        return [block]


def setup(app: Sphinx) -> dict[str, object]:
    app.add_directive("crmcore-cli-help", CliHelp)
    return {"parallel_read_safe": True, "version": "1"}
