"""Drawing a flow definition: Graphviz DOT, Mermaid, and a self-contained SVG.

The three are generated from the definition, never drawn by hand. The SVG
needs no Graphviz: states are laid out top to bottom in layers (the longest
path of forward transitions), transitions that skip layers or go back are
drawn as arcs beside the column, states are coloured by phase, final states
have a double border, and backward transitions of forward-only flows are
dashed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from xml.sax.saxutils import escape, quoteattr

import attrs

from crmcore.i18n import tr
from crmcore.transitions.definition import FlowDefinition

PHASE_COLOURS: tuple[tuple[str, str], ...] = (
    ("#e3effb", "#3b6ea5"), ("#e6f5e9", "#2f7d46"), ("#fbe7e6", "#a8402f"),
    ("#fff3dc", "#a87513"), ("#efe8f9", "#6b4aa0"), ("#e2f4f4", "#2a7a7a"),
)
"""(fill, stroke) colours given to the phases, in phase order (repeating)."""


@attrs.frozen
class _Edge:
    source: str
    target: str
    label: str
    backward: bool


def _edges(flow: FlowDefinition) -> list[_Edge]:
    """Transitions merged by (source, target), labels joined with ' / '."""
    labels: dict[tuple[str, str], list[str]] = {}
    for source, target, transition in flow.edges():
        labels.setdefault((source, target), []).append(transition.event)
    return [_Edge(source, target, " / ".join(events),
                  flow.forward_only and flow.rank(target) < flow.rank(source))
            for (source, target), events in labels.items()]


def _colours(flow: FlowDefinition) -> dict[str, tuple[str, str]]:
    return {phase: PHASE_COLOURS[index % len(PHASE_COLOURS)]
            for index, phase in enumerate(flow.phase_names())}


def _ids(flow: FlowDefinition) -> dict[str, str]:
    made: dict[str, str] = {}
    for state in flow.states:
        base = re.sub(r"\W", "_", state.name, flags=re.ASCII) or "state"
        base = f"s_{base}" if base[0].isdigit() else base
        candidate, number = base, 1
        while candidate in made.values():
            number += 1
            candidate = f"{base}_{number}"
        made[state.name] = candidate
    return made


def _dot_text(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def to_dot(flow: FlowDefinition) -> str:
    """The flow as Graphviz DOT text (phases as clusters, finals with a double border)."""
    colours = _colours(flow)
    lines = [f"digraph {_dot_text(flow.name)} {{",
             "  rankdir=TB;",
             '  node [shape=box, style="rounded,filled", fontname="Helvetica"];',
             '  edge [fontname="Helvetica", fontsize=10];',
             "  __start [shape=point, width=0.15];"]
    for index, phase in enumerate(flow.phase_names()):
        fill, stroke = colours[phase]
        lines.append(f"  subgraph cluster_{index} {{")
        lines.append(f"    label={_dot_text(phase)}; color={_dot_text(stroke)};")
        for state in flow.states:
            if state.phase == phase:
                extra = ", peripheries=2" if state.final else ""
                lines.append(f"    {_dot_text(state.name)} [fillcolor={_dot_text(fill)}, "
                             f"color={_dot_text(stroke)}{extra}];")
        lines.append("  }")
    lines.append(f"  __start -> {_dot_text(flow.initial)};")
    for edge in _edges(flow):
        style = ", style=dashed" if edge.backward else ""
        lines.append(f"  {_dot_text(edge.source)} -> {_dot_text(edge.target)} "
                     f"[label={_dot_text(edge.label)}{style}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


def to_mermaid(flow: FlowDefinition) -> str:
    """The flow as a Mermaid ``stateDiagram-v2`` (phases as classes)."""
    ids = _ids(flow)
    lines = ["stateDiagram-v2", "    direction TB"]
    lines.extend(f'    state "{state.name}" as {ids[state.name]}'
                 for state in flow.states if ids[state.name] != state.name)
    lines.append(f"    [*] --> {ids[flow.initial]}")
    for edge in _edges(flow):
        lines.append(f"    {ids[edge.source]} --> {ids[edge.target]} : {edge.label}")
    lines.extend(f"    {ids[state.name]} --> [*]" for state in flow.states if state.final)
    colours = _colours(flow)
    for index, phase in enumerate(flow.phase_names()):
        fill, stroke = colours[phase]
        members = ",".join(ids[s.name] for s in flow.states if s.phase == phase)
        lines.append(f"    classDef phase{index} fill:{fill},stroke:{stroke}")
        lines.append(f"    class {members} phase{index}")
    return "\n".join(lines) + "\n"


# -- SVG ------------------------------------------------------------------------------------

_CHAR = 7.2  # average width of a 12px sans-serif character
_NODE_H = 34.0
_ROW = 78.0
_GAP = 36.0
_LANE = 26.0


@attrs.frozen
class _Box:
    x: float
    y: float
    width: float

    @property
    def centre(self) -> float:
        return self.x + self.width / 2


def _layers(flow: FlowDefinition) -> dict[str, int]:
    layer: dict[str, int] = {}
    for state in flow.states:  # forward edges go to later states: one pass suffices
        before = [layer[s] + 1 for s, t, _ in flow.edges()
                  if t == state.name and flow.rank(s) < flow.rank(t) and s in layer]
        layer[state.name] = max(before, default=0)
    return layer


def _boxes(flow: FlowDefinition, top: float) -> tuple[dict[str, _Box], float]:
    layer = _layers(flow)
    rows: dict[int, list[str]] = {}
    for state in flow.states:
        rows.setdefault(layer[state.name], []).append(state.name)
    widths = {s.name: max(96.0, len(s.name) * _CHAR + 28) for s in flow.states}
    row_widths = {n: sum(widths[s] for s in names) + _GAP * (len(names) - 1)
                  for n, names in rows.items()}
    span = max(row_widths.values())
    boxes: dict[str, _Box] = {}
    for number, names in rows.items():
        x = (span - row_widths[number]) / 2
        for name in names:
            boxes[name] = _Box(x, top + number * _ROW, widths[name])
            x += widths[name] + _GAP
    return boxes, span


def _arc(edge: _Edge, boxes: dict[str, _Box], lane: int, left: bool
         ) -> tuple[str, float, float]:
    """A cubic curve beside the column whose apex sits in lane ``lane``; its apex point."""
    source, target = boxes[edge.source], boxes[edge.target]
    sy, ty = source.y + _NODE_H / 2, target.y + _NODE_H / 2
    sx = source.x if left else source.x + source.width
    tx = target.x if left else target.x + target.width
    if left:
        apex = min(source.x, target.x) - 24 - _LANE * lane
    else:
        apex = max(source.x + source.width, target.x + target.width) + 24 + _LANE * lane
    bulge = (apex - (sx + tx) / 8) / 0.75  # the curve's x at t=0.5 is then ``apex``
    path = f"M {sx:.1f} {sy:.1f} C {bulge:.1f} {sy:.1f} {bulge:.1f} {ty:.1f} {tx:.1f} {ty:.1f}"
    return path, apex, (sy + ty) / 2


def _edge_paths(flow: FlowDefinition, boxes: dict[str, _Box], span: float
                ) -> Iterator[tuple[_Edge, str, float, float, str]]:
    """Each edge's path, its label's anchor point and text-anchor."""
    top = min(box.y for box in boxes.values())
    layer = {name: round((box.y - top) / _ROW) for name, box in boxes.items()}
    arcs: dict[bool, list[_Edge]] = {True: [], False: []}
    for edge in _edges(flow):
        source, target = boxes[edge.source], boxes[edge.target]
        if edge.source == edge.target:
            x, y = source.x + source.width, source.y + _NODE_H / 2
            path = (f"M {x:.1f} {y - 8:.1f} C {x + 34:.1f} {y - 26:.1f} {x + 34:.1f} "
                    f"{y + 26:.1f} {x:.1f} {y + 8:.1f}")
            yield edge, path, x + 30, y - 16, "start"
        elif layer[edge.target] - layer[edge.source] == 1:
            sx, sy = source.centre, source.y + _NODE_H
            tx, ty = target.centre, target.y
            yield (edge, f"M {sx:.1f} {sy:.1f} L {tx:.1f} {ty:.1f}", (sx + tx) / 2,
                   (sy + ty) / 2, "middle")
        else:
            forward = layer[edge.target] > layer[edge.source]
            middle = (source.centre + target.centre) / 2
            arcs[forward and middle <= span / 2 + 1].append(edge)
    for left, edges in arcs.items():
        ordered = sorted(edges, key=lambda e: abs(layer[e.target] - layer[e.source]))
        for lane, edge in enumerate(ordered):
            path, x, y = _arc(edge, boxes, lane, left)
            yield edge, path, x - 5 if left else x + 5, y, "end" if left else "start"


def to_svg(flow: FlowDefinition, *, title: str | None = None) -> str:
    """The flow as a standalone SVG drawing (no external tools, fonts or scripts)."""
    colours = _colours(flow)
    legend_h = 30.0
    boxes, span = _boxes(flow, legend_h + 36)
    paths = list(_edge_paths(flow, boxes, span))
    extent = {"start": (0.0, 1.0), "middle": (0.5, 0.5), "end": (1.0, 0.0)}
    low = min([0.0, *(x - len(edge.label) * _CHAR * extent[a][0] for edge, _, x, _, a in paths)])
    high = max([span, *(x + len(edge.label) * _CHAR * extent[a][1]
                        for edge, _, x, _, a in paths)])
    margin = max(-low, high - span) + 30
    width = span + 2 * margin
    height = max(b.y for b in boxes.values()) + _NODE_H + 24
    label = title or tr("{name} (version {version})").format(name=flow.name,
                                                             version=flow.version)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="{-margin:.0f} 0 {width:.0f} '
           f'{height:.0f}" width="{width:.0f}" height="{height:.0f}" role="img" '
           f'aria-label={quoteattr(label)} font-family="Helvetica, Arial, sans-serif" '
           f'font-size="12">',
           f"<title>{escape(label)}</title>",
           '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
           'markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" '
           'fill="#555"/></marker></defs>']
    x = -margin + 12
    for phase in flow.phase_names():
        fill, stroke = colours[phase]
        out.append(f'<rect x="{x:.1f}" y="8" width="14" height="14" rx="3" fill="{fill}" '
                   f'stroke="{stroke}"/><text x="{x + 20:.1f}" y="19">{escape(phase)}</text>')
        x += 20 + len(phase) * _CHAR + 24
    for edge, path, *_ in paths:
        dash = ' stroke-dasharray="5 4"' if edge.backward else ""
        out.append(f'<path d="{path}" fill="none" stroke="#555" stroke-width="1.3"{dash} '
                   f'marker-end="url(#arrow)"><title>{escape(edge.label)}</title></path>')
    for edge, _, lx, ly, anchor in paths:  # labels last, with a halo: lines never hide them
        out.append(f'<text x="{lx:.1f}" y="{ly + 4:.1f}" text-anchor="{anchor}" font-size="10.5" '
                   f'fill="#222" stroke="#fff" stroke-width="3.5" paint-order="stroke" '
                   f'stroke-linejoin="round">{escape(edge.label)}</text>')
    start = boxes[flow.initial]
    out.append(f'<circle cx="{start.centre:.1f}" cy="{start.y - 24:.1f}" r="5" fill="#333"/>')
    out.append(f'<path d="M {start.centre:.1f} {start.y - 19:.1f} L {start.centre:.1f} '
               f'{start.y:.1f}" stroke="#333" marker-end="url(#arrow)"/>')
    for state in flow.states:
        box = boxes[state.name]
        fill, stroke = colours[state.phase]
        tip = f"{state.name} ({state.phase})" + (f": {state.description}"
                                                 if state.description else "")
        out.append(f'<g><title>{escape(tip)}</title>'
                   f'<rect x="{box.x:.1f}" y="{box.y:.1f}" width="{box.width:.1f}" '
                   f'height="{_NODE_H:.0f}" rx="9" fill="{fill}" stroke="{stroke}" '
                   f'stroke-width="1.5"/>')
        if state.final:
            out.append(f'<rect x="{box.x + 3:.1f}" y="{box.y + 3:.1f}" '
                       f'width="{box.width - 6:.1f}" height="{_NODE_H - 6:.0f}" rx="7" '
                       f'fill="none" stroke="{stroke}"/>')
        out.append(f'<text x="{box.centre:.1f}" y="{box.y + _NODE_H / 2 + 4:.1f}" '
                   f'text-anchor="middle">{escape(state.name)}</text></g>')
    out.append("</svg>")
    return "\n".join(out) + "\n"
