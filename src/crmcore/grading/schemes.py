"""Grade schemes as data: attrs objects, read from TOML documents.

A scheme document::

    name = "pareto-abc"          # how results and the CLI call it
    version = 1                  # bump when the rules change
    kind = "pareto-abc"          # pareto-abc, pyramid, thresholds, value-matrix,
                                 # prospect-abcd or rfm
    description = "..."

    [[grades]]                   # best first
    name = "A"
    label = "gold: top 5% by value"
    aliases = ["key"]

    [rules]                      # what the kind needs (see each kind's module)
    metric = "revenue"
    shares = [0.05, 0.20]

    [followup.A]                 # optional, per grade (G6)
    contact_every_days = 7

Every error names the key path and the value and is a
:class:`~crmcore.errors.ConfigError`. Built-in schemes live in
``crmcore/grading/schemes/*.toml``; :func:`load_scheme` takes a built-in
name or a file path, with optional overrides.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Any

import attrs

from crmcore.errors import ConfigError
from crmcore.grading._document import Table
from crmcore.grading.followup import FollowUpPolicy, parse_followup
from crmcore.grading.matrix import MatrixRules, parse_matrix_rules
from crmcore.grading.prospects import ProspectRules, parse_prospect_rules
from crmcore.grading.ranked import RankedRules, parse_ranked_rules
from crmcore.grading.rfm import RfmRules, parse_rfm_rules
from crmcore.grading.thresholds import ThresholdRules, parse_threshold_rules
from crmcore.i18n import file_problem, tr


class SchemeKind(StrEnum):
    """The kinds of grade scheme, with the rule each implements."""

    PARETO_ABC = "pareto-abc"  # G1
    THRESHOLDS = "thresholds"  # G2
    VALUE_MATRIX = "value-matrix"  # G3
    PROSPECT_ABCD = "prospect-abcd"  # G4
    PYRAMID = "pyramid"  # G5
    RFM = "rfm"


Rules = RankedRules | ThresholdRules | MatrixRules | ProspectRules | RfmRules
"""The rules of any scheme kind."""

_FIXED_GRADES = {SchemeKind.VALUE_MATRIX: 4, SchemeKind.PROSPECT_ABCD: 4}


@attrs.frozen
class Grade:
    """One grade of a scheme: its name, a label for people and other names (G8)."""

    name: str
    label: str = ""
    aliases: tuple[str, ...] = ()


@attrs.frozen
class GradeScheme:
    """A named, versioned grading scheme: ordered grades (best first) and rules.

    Build one directly or with :func:`load_scheme` / :func:`parse_scheme`;
    an inconsistent scheme raises :class:`~crmcore.errors.ConfigError`.
    """

    name: str
    version: int
    kind: SchemeKind
    grades: tuple[Grade, ...]
    rules: Rules
    followup: Mapping[str, FollowUpPolicy] = attrs.field(factory=dict)
    description: str = ""

    def __attrs_post_init__(self) -> None:
        names = [grade.name for grade in self.grades]
        every = [*names, *(alias for grade in self.grades for alias in grade.aliases)]
        duplicate = next((name for name in every if every.count(name) > 1), None)
        if duplicate is not None:
            raise ConfigError(tr("grades: {value!r} names more than one grade").format(
                value=duplicate))
        if len(self.grades) < 2:
            raise ConfigError(tr("grades: {names!r} must list at least two grades").format(
                names=names))
        needed = _FIXED_GRADES.get(self.kind)
        if needed is not None and len(self.grades) != needed:
            raise ConfigError(tr("grades: {names!r} must list exactly {needed} grades for kind "
                                 "{kind!r}").format(names=names, needed=needed,
                                                    kind=self.kind.value))
        used = self.rules.grade_names() if hasattr(self.rules, "grade_names") else ()
        for index, name in enumerate(used):
            if name not in every:
                raise ConfigError(tr("rules: grade {name!r} (rule {index}) is not one of the "
                                     "grades ({grades})").format(name=name, index=index,
                                                                 grades=", ".join(names)))
        expected = self.rules.grade_count() if hasattr(self.rules, "grade_count") else None
        if expected is not None and expected != len(self.grades):
            raise ConfigError(tr("grades: {count} grades {names!r}, but the rules make "
                                 "{expected}").format(count=len(names), names=names,
                                                      expected=expected))
        for grade, policy in self.followup.items():
            if grade not in every:
                raise ConfigError(tr("{key}: is not a grade ({grades})").format(
                    key=f"followup.{grade}", grades=", ".join(names)))
            if policy.nurture_toward is not None and policy.nurture_toward not in every:
                raise ConfigError(tr("{key}: {value!r} is not a grade").format(
                    key=f"followup.{grade}.nurture_toward", value=policy.nurture_toward))

    @property
    def grade_names(self) -> tuple[str, ...]:
        """The grade names, best first."""
        return tuple(grade.name for grade in self.grades)

    def grade(self, name: str) -> Grade:
        """The grade called ``name`` or one of its aliases (platinum for VIP, 铂金...), in
        any case or width (:func:`crmcore.vocabulary.fold`)."""
        from crmcore.vocabulary import fold

        for grade in self.grades:
            if name == grade.name or name in grade.aliases:
                return grade
        wanted = fold(name)
        for grade in self.grades:
            if wanted in {fold(grade.name), *map(fold, grade.aliases)}:
                return grade
        raise ConfigError(tr("grade: {name!r} is not a grade of {scheme} ({grades})").format(
            name=name, scheme=self.name, grades=", ".join(self.grade_names)))

    def order(self, name: str) -> int:
        """0 for the best grade, 1 for the next...; aliases accepted."""
        return self.grades.index(self.grade(name))

    def policy(self, grade: str) -> FollowUpPolicy | None:
        """The follow-up policy of a grade (G6), or None when the scheme gives none."""
        canonical = self.grade(grade)
        for key, policy in self.followup.items():
            if self.grade(key) == canonical:
                return policy
        return None

    @property
    def label(self) -> str:
        """``name@version``, as results and explanations cite the scheme."""
        return f"{self.name}@{self.version}"


_PARSERS: dict[SchemeKind, Any] = {
    SchemeKind.PARETO_ABC: lambda table: parse_ranked_rules(table, by_value_only=False),
    SchemeKind.PYRAMID: lambda table: parse_ranked_rules(table, by_value_only=True),
    SchemeKind.THRESHOLDS: parse_threshold_rules,
    SchemeKind.VALUE_MATRIX: parse_matrix_rules,
    SchemeKind.PROSPECT_ABCD: parse_prospect_rules,
    SchemeKind.RFM: parse_rfm_rules,
}


def scheme_from_mapping(data: Mapping[str, Any]) -> GradeScheme:
    """Build a scheme from a parsed document (a TOML table)."""
    top = Table(data, "")
    name = top.text("name")
    if not name.strip():
        raise top.fail("name", name, tr("must be a non-empty text"))
    version = top.integer("version", minimum=1)
    kind = SchemeKind(top.choice("kind", tuple(kind.value for kind in SchemeKind)))
    description = top.text("description", "")
    rules = _PARSERS[kind](top.child("rules", required=True))
    grade_tables = top.children("grades", [])
    if grade_tables:
        grades = tuple(_grade(table) for table in grade_tables)
    elif hasattr(rules, "grade_names"):
        grades = tuple(Grade(name) for name in dict.fromkeys(rules.grade_names()))
    else:
        raise ConfigError(tr("grades: is required ([[grades]] tables, best first)"))
    followup_table = top.child("followup")
    followup = {}
    for grade in followup_table.values:
        followup[grade] = parse_followup(followup_table.child(grade, required=True))
    top.check_all_used()
    return GradeScheme(name, version, kind, grades, rules, followup, description)


def _grade(table: Table) -> Grade:
    name = table.text("name")
    if not name.strip():
        raise table.fail("name", name, tr("must be a non-empty text"))
    aliases = table.array("aliases", [])
    if not all(isinstance(alias, str) and alias.strip() for alias in aliases):
        raise table.fail("aliases", aliases, tr("is not a list of names"))
    grade = Grade(name, table.text("label", ""), tuple(aliases))
    table.check_all_used()
    return grade


def _reading_problem(error: OSError | UnicodeDecodeError) -> str:
    """What went wrong reading a scheme file, in the current language."""
    return file_problem(error) if isinstance(error, OSError) else str(error)


def parse_scheme(text: str, *, source: str = "<text>",
                 overrides: Mapping[str, Any] | None = None) -> GradeScheme:
    """Read a scheme from TOML text; ``overrides`` are merged in first (nested tables merge)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(tr("{source}: not valid TOML: {error}").format(
            source=source, error=error)) from error
    try:
        return scheme_from_mapping(_merged(data, overrides or {}))
    except ConfigError as error:
        raise ConfigError(tr("{key}: {error}").format(key=source, error=error)) from None


def _merged(base: Mapping[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in extra.items():
        current = merged.get(key)
        if isinstance(current, Mapping) and isinstance(value, Mapping):
            merged[key] = _merged(current, value)
        else:
            merged[key] = value
    return merged


def builtin_schemes() -> tuple[str, ...]:
    """The names of the built-in schemes."""
    folder = resources.files("crmcore.grading") / "schemes"
    return tuple(sorted(item.name.removesuffix(".toml") for item in folder.iterdir()
                        if item.name.endswith(".toml")))


def load_scheme(name_or_path: str | Path, *, overrides: Mapping[str, Any] | None = None
                ) -> GradeScheme:
    """A built-in scheme by name (``"pareto-abc"``) or a scheme document file."""
    text_name = str(name_or_path)
    if isinstance(name_or_path, str) and text_name in builtin_schemes():
        document = resources.files("crmcore.grading") / "schemes" / f"{text_name}.toml"
        return parse_scheme(document.read_text(encoding="utf-8"),
                            source=tr("built-in scheme {name}").format(name=text_name),
                            overrides=overrides)
    path = Path(name_or_path)
    if not path.is_file():
        raise ConfigError(tr("scheme: {value!r} is neither a built-in scheme ({schemes}) nor a "
                             "file").format(value=text_name,
                                            schemes=", ".join(builtin_schemes())))
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(tr("scheme: cannot read {path!r}: {error}").format(
            path=text_name, error=_reading_problem(error))) from None
    return parse_scheme(text, source=text_name, overrides=overrides)
