"""``crmcore events``: the event catalogue (types, their data and JSON Schemas)."""

from __future__ import annotations

import argparse

from crmcore.cli.common import add_format_argument, print_json, print_table
from crmcore.i18n import tr


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the commands of this module."""
    events = commands.add_parser(
        "events", help="the catalogue of event types, their data and JSON Schemas",
        description="List every event type notifiers receive (list), one type's data "
                    "fields (show TYPE) or its envelope's JSON Schema (schema TYPE).")
    add_format_argument(events, "table", "json")
    events.set_defaults(run=run_list)  # `crmcore events [--format json]` lists
    actions = events.add_subparsers(dest="action", metavar="ACTION")
    listing = actions.add_parser("list", help="every event type with a summary")
    add_format_argument(listing, "table", "json")
    listing.set_defaults(run=run_list)
    show = actions.add_parser("show", help="one event type: summary and data fields")
    show.add_argument("type", metavar="TYPE")
    add_format_argument(show, "table", "json")
    show.set_defaults(run=run_show)
    schema = actions.add_parser("schema", help="one event type's JSON Schema (JSON)")
    schema.add_argument("type", metavar="TYPE")
    schema.set_defaults(run=run_schema)


def run_list(arguments: argparse.Namespace) -> int:
    """Print every event type with its summary."""
    from crmcore.event_catalogue import ENVELOPE_VERSION, catalogue

    entries = catalogue()
    if arguments.format == "json":
        print_json({"envelope_version": ENVELOPE_VERSION,
                    "types": [{"type": e.name, "summary": e.summary_text()}
                              for e in entries]})
        return 0
    print_table([(e.name, e.summary_text()) for e in entries], (tr("type"), tr("summary")))
    return 0


def run_show(arguments: argparse.Namespace) -> int:
    """Print one event type's summary and the JSON type of each data field."""
    from crmcore.event_catalogue import data_schema, event_type

    entry = event_type(arguments.type)
    own = data_schema(entry)["anyOf"][0]
    fields = {name: _type_text(schema) for name, schema in own["properties"].items()}
    if arguments.format == "json":
        print_json({"type": entry.name, "summary": entry.summary_text(), "data": fields})
        return 0
    print(f"{entry.name}: {entry.summary_text()}")
    print_table(sorted(fields.items()), (tr("data field"), tr("JSON type")))
    return 0


def run_schema(arguments: argparse.Namespace) -> int:
    """Print one event type's envelope JSON Schema."""
    from crmcore.event_catalogue import event_schema

    print_json(event_schema(arguments.type))
    return 0


def _type_text(schema: dict[str, object]) -> str:
    """A short name for a field's schema (``string (date-time)``, ``integer | null``)."""
    if "anyOf" in schema:
        options = schema["anyOf"]
        assert isinstance(options, list)
        return " | ".join(_type_text(option) for option in options)
    if "enum" in schema:
        values = ", ".join(map(repr, schema["enum"]))  # type: ignore[call-overload]
        return tr("one of {values}").format(values=values)
    if "title" in schema:
        return tr("object ({title})").format(title=schema["title"])
    kind = str(schema.get("type", "any"))
    return f"{kind} ({schema['format']})" if "format" in schema else kind
