"""Generate the hook reference from a pluggy hookspec module.

Usage in a page, inside the section that should hold the reference::

    .. crmcore-hooks::
       :module: crmcore.hookspecs

The directive imports the module, takes every function named
``<project>_*`` that carries pluggy's spec marker attribute
(``<project>_spec``, where ``<project>`` is the module's ``PROJECT_NAME``),
and emits, in source order:

- a summary table (hook, firstresult, first line of the docstring);
- one section per hook with its signature (as a ``py:function`` object, so
  it can be cross-referenced), the marker's options (``firstresult``,
  ``historic``) and its docstring.

A hook without a docstring is a build warning (an error under ``-W``).
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable
from typing import Any

from docutils import nodes
from docutils.parsers.rst import directives
from docutils.statemachine import StringList
from sphinx.application import Sphinx
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective
from sphinx.util.typing import ExtensionMetadata

logger = logging.getLogger(__name__)

DEFAULT_MODULE = "crmcore.hookspecs"


def _annotation(value: Any) -> str:
    if isinstance(value, str):  # ``from __future__ import annotations``
        return value
    return inspect.formatannotation(value)


def format_signature(function: Callable[..., Any]) -> str:
    """``(name: type, ...) -> type`` with annotations written as in the source."""
    signature = inspect.signature(function)
    parts = []
    for parameter in signature.parameters.values():
        text = parameter.name
        if parameter.annotation is not inspect.Parameter.empty:
            text += f": {_annotation(parameter.annotation)}"
        parts.append(text)
    result = f"({', '.join(parts)})"
    if signature.return_annotation is not inspect.Signature.empty:
        result += f" -> {_annotation(signature.return_annotation)}"
    return result


def collect_hooks(module: Any) -> list[tuple[str, Callable[..., Any], dict[str, Any]]]:
    """The hook specifications of ``module`` in source order, with their marker options."""
    project = getattr(module, "PROJECT_NAME", "crmcore")
    marker = f"{project}_spec"
    found = []
    for name, value in vars(module).items():
        if not (name.startswith(f"{project}_") and inspect.isfunction(value)):
            continue
        options = getattr(value, marker, None)
        if options is None:
            continue
        found.append((name, value, dict(options)))
    found.sort(key=lambda item: inspect.getsourcelines(item[1])[1])
    return found


def _yes_no(value: Any) -> str:
    return "yes" if value else "no"


class CrmcoreHooksDirective(SphinxDirective):
    """``.. crmcore-hooks::``: the generated hook reference."""

    has_content = False
    required_arguments = 0
    optional_arguments = 0
    option_spec = {"module": directives.unchanged}  # noqa: RUF012 - docutils API

    def run(self) -> list[nodes.Node]:
        module_name = self.options.get("module", DEFAULT_MODULE)
        try:
            module = importlib.import_module(module_name)
        except ImportError as error:
            logger.warning("crmcore-hooks: cannot import %s: %s", module_name, error,
                           location=self.get_location())
            return []
        if getattr(module, "__file__", None):
            self.env.note_dependency(module.__file__)
        hooks = collect_hooks(module)
        if not hooks:
            logger.warning("crmcore-hooks: no hook specifications found in %s", module_name,
                           location=self.get_location())
            return []

        result: list[nodes.Node] = []
        result.extend(self._parse(self._summary(module_name, hooks)))
        for name, function, options in hooks:
            result.append(self._hook_section(module_name, name, function, options))
        return result

    def _parse(self, lines: list[str], parent: nodes.Element | None = None) -> list[nodes.Node]:
        container = parent if parent is not None else nodes.container()
        source = self.get_source_info()[0] or "<crmcore-hooks>"
        content = StringList()
        for number, line in enumerate(lines):
            content.append(line, source, number)
        self.state.nested_parse(content, self.content_offset, container)
        return [] if parent is not None else list(container.children)

    def _summary(self, module_name: str,
                 hooks: list[tuple[str, Callable[..., Any], dict[str, Any]]]) -> list[str]:
        lines = [
            f".. list-table:: Hooks of ``{module_name}``",
            "   :header-rows: 1",
            "   :widths: 30 12 58",
            "",
            "   * - hook",
            "     - firstresult",
            "     - purpose",
        ]
        for name, function, options in hooks:
            summary = (inspect.getdoc(function) or "").strip().splitlines()
            lines += [
                f"   * - :func:`~{module_name}.{name}`",
                f"     - {_yes_no(options.get('firstresult'))}",
                f"     - {summary[0] if summary else '(undocumented)'}",
            ]
        lines.append("")
        return lines

    def _hook_section(self, module_name: str, name: str, function: Callable[..., Any],
                      options: dict[str, Any]) -> nodes.section:
        section_id = nodes.make_id(f"hook-{name}")
        section = nodes.section(ids=[section_id], names=[nodes.fully_normalize_name(name)])
        section += nodes.title(name, "", nodes.literal(name, name))
        self.state.document.note_implicit_target(section, section)

        docstring = inspect.getdoc(function)
        if not docstring:
            logger.warning("crmcore-hooks: hook %s.%s has no docstring", module_name, name,
                           location=self.get_location())
            docstring = "(undocumented)"
        firstresult = bool(options.get("firstresult"))
        lines = [
            f".. py:function:: {name}{format_signature(function)}",
            f"   :module: {module_name}",
            "",
            "   :firstresult: " + (
                "yes: the first non-``None`` result wins and the call stops there"
                if firstresult else
                "no: every implementation is called"
            ),
            f"   :historic: {_yes_no(options.get('historic'))}",
            "",
        ]
        lines += [f"   {line}" if line else "" for line in docstring.splitlines()]
        lines.append("")
        self._parse(lines, section)
        return section


def setup(app: Sphinx) -> ExtensionMetadata:
    app.add_directive("crmcore-hooks", CrmcoreHooksDirective)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
