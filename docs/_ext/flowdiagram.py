"""Draw a crmcore flow definition in the docs, generated from the definition at build time.

Usage::

    .. crmcore-flow:: customer
       :caption: The default customer lifecycle (L1).

The argument is a shipped flow name (``customer``, ``lead``, ``consulting``,
``media-sales``; see :data:`crmcore.lifecycle.FLOW_FILES`) or a TOML file
path relative to the page. HTML builders get the SVG of
:func:`crmcore.transitions.to_svg` inline (no network, no Graphviz); other
builders get the Mermaid text of :func:`crmcore.transitions.to_mermaid`.
With ``:format: mermaid`` or ``:format: dot`` the text is shown instead.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective
from sphinx.util.typing import ExtensionMetadata

from crmcore.lifecycle import FLOW_FILES, builtin_flow, lifecycle_checks
from crmcore.transitions import FlowDefinition, load_flow, to_dot, to_mermaid, to_svg


class FlowDiagram(SphinxDirective):
    """The ``crmcore-flow`` directive."""

    required_arguments = 1
    option_spec: ClassVar[dict[str, Any]] = {
        "caption": directives.unchanged,
        "format": lambda value: directives.choice(value, ("svg", "mermaid", "dot")),
    }

    def _flow(self) -> FlowDefinition:
        name = self.arguments[0]
        if name in FLOW_FILES:
            return builtin_flow(name)
        source = Path(self.env.doc2path(self.env.docname)).parent / name
        self.env.note_dependency(str(source))
        return load_flow(source, lifecycle_checks())

    def run(self) -> list[nodes.Node]:
        try:
            flow = self._flow()
        except Exception as error:  # report as a build warning, not a crash
            return [self.state.document.reporter.warning(
                f"crmcore-flow {self.arguments[0]!r}: {error}", line=self.lineno)]
        wanted = self.options.get("format", "svg")
        html = self.env.app.builder.format == "html"
        if wanted == "svg" and html:
            body: nodes.Node = nodes.raw("", f'<div class="crmcore-flow">{to_svg(flow)}</div>',
                                         format="html")
        else:
            text = to_dot(flow) if wanted == "dot" else to_mermaid(flow)
            body = nodes.literal_block(text, text)
        result: list[nodes.Node] = [body]
        if "caption" in self.options:
            result.append(nodes.paragraph("", "", nodes.emphasis("", self.options["caption"])))
        return result


def setup(app: Sphinx) -> ExtensionMetadata:
    """Register the ``crmcore-flow`` directive."""
    app.add_directive("crmcore-flow", FlowDiagram)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
