"""The one cattrs converter, and readable structure errors.

:func:`make_converter` builds the converter every boundary uses (JSON,
TOML config, storage rows, events). :func:`structure` and :func:`unstructure`
are the convenient entry points; :func:`structure` turns every cattrs error
into :class:`~crmcore.errors.InvalidDataError` whose message names the path
and the value, e.g. ``customers[3].preferences.time_zone: 'Mars/Base' is not a
time zone``.

cattrs is imported when a converter is first built or an error described, not
with this module: :func:`dump_json` and the readers of stored JSON that never
structure an entity (a materialised agenda) do not pay for it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from enum import Enum, StrEnum
from functools import cache
from json.encoder import c_make_encoder as _make_encoder  # type: ignore[attr-defined]
from json.encoder import encode_basestring as _encode_text
from typing import TYPE_CHECKING, Any, TypeVar, get_args, get_origin

from crmcore.errors import MISSING, InvalidDataError, ValidationError
from crmcore.i18n import N_, tr
from crmcore.validation import parse_date

if TYPE_CHECKING:
    import cattrs

T = TypeVar("T")


def _structure_datetime(value: Any, _type: type[Any]) -> datetime:
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise ValidationError("", value, "is not an ISO 8601 date and time") from None
    else:
        raise ValidationError("", value, "is not an ISO 8601 date and time")
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise ValidationError("", value, "is a naive datetime; give a time zone (e.g. +00:00)")
    return parsed


def _structure_date(value: Any, _type: type[Any]) -> date:
    return parse_date(value, "")


def _structure_time(value: Any, _type: type[Any]) -> time:
    if isinstance(value, time):
        return value
    if isinstance(value, str):
        try:
            parsed = time.fromisoformat(value)
        except ValueError:
            pass
        else:
            if parsed.tzinfo is None:
                return parsed
    raise ValidationError("", value, "is not a local time (HH:MM)")


def _structure_decimal(value: Any, _type: type[Any]) -> Decimal:
    if isinstance(value, bool):
        raise ValidationError("", value, "is not a decimal number")
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int | float | str):
        try:
            parsed = Decimal(str(value).strip())
        except InvalidOperation:
            pass
        else:
            if parsed.is_finite():
                return parsed
    raise ValidationError("", value, "is not a decimal number")


def _strict(kind: type[Any], reason: str) -> Callable[[Any, type[Any]], Any]:
    def structure(value: Any, _type: type[Any]) -> Any:
        if isinstance(value, bool) and kind is not bool:
            raise ValidationError("", value, reason)
        if kind is float and isinstance(value, int):
            return float(value)
        if not isinstance(value, kind):
            raise ValidationError("", value, reason)
        return value

    return structure


def _is_exactly(expected: Any) -> Callable[[Any], bool]:
    return lambda cls: bool(cls == expected)


def _enum_value(member: Enum) -> Any:
    return member.value


def _passthrough(kinds: tuple[type[Any], ...], reason: str
                 ) -> Callable[[Any, type[Any]], Any]:
    def structure(value: Any, _type: type[Any]) -> Any:
        if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
            raise ValidationError("", value, reason)
        return value

    return structure


def _structure_enum(value: Any, enum_type: type[Enum]) -> Enum:
    try:
        return enum_type(value)
    except ValueError:
        from crmcore.vocabulary import member  # Chinese terms (竞争流失, 电话) name codes too

        return member(enum_type, value, "", label=_words(enum_type.__name__))


def _is_homogeneous_sequence(cls: Any) -> bool:
    args = get_args(cls)
    if get_origin(cls) is list:
        return len(args) == 1
    return get_origin(cls) is tuple and len(args) == 2 and args[1] is Ellipsis


def _sequence_factory(
    cls: Any, converter: cattrs.Converter
) -> Callable[[Any, type[Any]], Any]:
    from cattrs.cols import homogenous_tuple_structure_factory, list_structure_factory

    if get_origin(cls) is list:
        inner = list_structure_factory(cls, converter)
    else:
        inner = homogenous_tuple_structure_factory(cls, converter)

    def structure(value: Any, type_: type[Any]) -> Any:
        if isinstance(value, str | bytes) or not isinstance(value, Iterable):
            raise ValidationError("", value, "is not a list")
        return inner(value, type_)

    return structure


def _words(camel: str) -> str:
    letters = [f" {c.lower()}" if c.isupper() else c for c in camel]
    return "".join(letters).strip()


_JSON_SCALARS = frozenset({str, int, float, bool, type(None)})


def _json_mapping(converter: cattrs.Converter) -> Callable[[Any], Any]:
    """Unstructure a ``dict[str, Any]`` (event data, flow fields) without cattrs' run-time
    dispatch per value: JSON scalars, dicts and lists are copied as they are, anything
    else (a datetime, a Decimal, an enum) goes through ``converter``. The result equals
    cattrs' own, at a fraction of the cost on the hot path of every transition."""

    def plain(value: Any) -> Any:
        kind = type(value)
        if kind in _JSON_SCALARS:
            return value
        if kind is dict:
            return {key: plain(item) for key, item in value.items()}
        if kind is list or kind is tuple:
            return [plain(item) for item in value]
        return converter.unstructure(value)

    return lambda mapping: {key: plain(item) for key, item in mapping.items()}


def make_converter() -> cattrs.Converter:
    """Build the converter shared by every crmcore boundary.

    Datetimes travel as ISO 8601 text with an offset (naive ones are
    rejected), dates as ``YYYY-MM-DD``, local times as ``HH:MM``, Decimals as
    text (exact), enums by value. Scalars are strict: ``"5"`` is not an int
    and ``"false"`` is not a bool.
    """
    import cattrs

    from crmcore.model.customer import AttributeValue

    converter = cattrs.Converter(detailed_validation=True, forbid_extra_keys=True)
    converter.register_unstructure_hook(datetime, datetime.isoformat)
    converter.register_structure_hook(datetime, _structure_datetime)
    converter.register_unstructure_hook(date, date.isoformat)
    converter.register_structure_hook(date, _structure_date)
    converter.register_unstructure_hook(time, lambda value: value.isoformat("minutes")
                                        if value.second == 0 and value.microsecond == 0
                                        else value.isoformat())
    converter.register_structure_hook(time, _structure_time)
    converter.register_unstructure_hook(Decimal, str)
    converter.register_structure_hook(Decimal, _structure_decimal)
    for scalar, reason in ((str, N_("is not a text")), (int, N_("is not a whole number")),
                           (float, N_("is not a number")), (bool, N_("is not true or false"))):
        converter.register_structure_hook(scalar, _strict(scalar, reason))
    for enum_base in (Enum, StrEnum):  # StrEnum: ahead of str in its MRO
        converter.register_structure_hook(enum_base, _structure_enum)
        converter.register_unstructure_hook(enum_base, _enum_value)
    converter.register_structure_hook_factory(_is_homogeneous_sequence, _sequence_factory)
    converter.register_unstructure_hook_func(_is_exactly(dict[str, Any]),
                                             _json_mapping(converter))
    for union, reason in ((AttributeValue, N_("is not a text, number or true/false value")),
                          (int | str, N_("is not a whole number or a text"))):
        converter.register_structure_hook_func(
            _is_exactly(union), _passthrough(get_args(union), reason)
        )
    return converter


@cache
def default_converter() -> cattrs.Converter:
    """The process-wide converter built by :func:`make_converter`."""
    return make_converter()


_JSON_OPTIONS: dict[str, Any] = {"ensure_ascii": False, "sort_keys": True,
                                 "separators": (",", ":")}
_NOT_JSON = json.JSONEncoder(**_JSON_OPTIONS).default  # raises json.dumps' TypeError


def dump_json(data: Any, *, default: Callable[[Any], Any] | None = None) -> str:
    """Compact JSON text of already-unstructured ``data`` (UTF-8 kept, keys sorted),
    as storage backends write it.

    ``default`` turns a value that is not JSON data into JSON data as the
    encoder meets it (:func:`unstructure`: the text of ``unstructure(data)``
    without copying ``data`` first); without it such a value is a TypeError.
    The text is :func:`json.dumps`'s with these options; the C encoder is called
    directly (``json.dumps`` builds an encoder object per call, which costs as
    much as encoding a small body on the write path of every transition).
    """
    if _make_encoder is None:  # an interpreter without the C accelerator
        return json.dumps(data, default=default, **_JSON_OPTIONS)
    return "".join(_make_encoder({}, default or _NOT_JSON, _encode_text, None, ":", ",", True,
                                 False, True)(data, 0))


def unstructure(value: Any) -> Any:
    """Turn an entity (or any supported value) into JSON-ready data."""
    return default_converter().unstructure(value)


def structure(data: Any, cls: type[T], *, path: str = "") -> T:
    """Build a ``cls`` from JSON-ready ``data``.

    Raises :class:`~crmcore.errors.InvalidDataError` listing every problem
    with its path below ``path`` (for example ``"customers[3]"``).
    """
    try:
        return default_converter().structure(data, cls)
    except Exception as error:
        problems = describe_structure_error(error, path)
        raise InvalidDataError(problems) from error


def describe_structure_error(error: BaseException, path: str = "") -> list[ValidationError]:
    """Flatten a cattrs (or validator) error into problems with full paths."""
    from cattrs.errors import (
        ClassValidationError,
        ForbiddenExtraKeysError,
        IterableValidationError,
    )

    if isinstance(error, ClassValidationError | IterableValidationError):
        problems: list[ValidationError] = []
        with_notes, without_notes = error.group_exceptions()
        for inner, note in with_notes:
            problems.extend(describe_structure_error(inner, _join(path, note)))
        for inner in without_notes:
            problems.extend(describe_structure_error(inner, path))
        return problems
    if isinstance(error, InvalidDataError):
        return [problem.at(path) for problem in error.problems]
    if isinstance(error, ValidationError):
        return [error.at(path)]
    if isinstance(error, KeyError):
        return [ValidationError(path, MISSING, "is required")]
    if isinstance(error, ForbiddenExtraKeysError):
        return [
            ValidationError(_join_name(path, key), MISSING, "is not a known field")
            for key in sorted(error.extra_fields)
        ]
    return [ValidationError(path, MISSING, _describe_other(error))]


def _describe_other(error: BaseException) -> str:
    text = str(error) or type(error).__name__
    return tr("could not be read: {error}").format(error=text)


def _join(path: str, note: Any) -> str:
    name = getattr(note, "name", None)
    if name is not None:
        return _join_name(path, name)
    index = getattr(note, "index", None)
    if index is not None:
        return _join_name(path, index) if isinstance(index, str) else f"{path}[{index!r}]"
    return path


def _join_name(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name
