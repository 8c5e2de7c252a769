"""``.. crmcore-cli-help:: COMMAND [SUBCOMMAND]``: the ``--help`` text of a crmcore command.

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
    """The help of ``crmcore``, of a command, or of a subcommand (``"pdca abandon"``)."""
    from crmcore.cli import build_parser

    parser = build_parser()
    for name in (command or "").split():
        parser = next((action.choices[name] for action in parser._actions  # no public accessor
                       if isinstance(action, argparse._SubParsersAction)
                       and name in action.choices), None)
        if parser is None:
            raise ValueError(f"crmcore has no command {command!r}")
    return str(parser.format_help())


class CliHelp(Directive):
    """Render ``crmcore [COMMAND] --help`` as a literal block."""

    optional_arguments = 1
    final_argument_whitespace = True

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
