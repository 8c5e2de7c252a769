"""Which grading scheme the service policies follow, and the grades in force (G6).

The policies treat each grade differently, so they need two things of a grading
scheme: its follow-up principles per grade (``[followup.<grade>]``, carried by the
scheme itself, built-in or loaded from a file) and each customer's grade in force,
which is the latest stored grade of that scheme
(:func:`crmcore.grading.history.latest_grades`).

:func:`policy_scheme` chooses the scheme: the one named (a built-in name or a
scheme file); else the daily run's ``[run] scheme`` when the configuration sets it;
else the scheme whose grading run was stored most recently; else none (a book
never graded: every customer is treated as the last grade). A stored scheme that was
loaded from a file cannot be found again by its name alone: naming it raises
:class:`~crmcore.errors.ConfigError` asking for
the file, never a silent fall back to the default follow-up policy.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from crmcore.errors import ConfigError
from crmcore.grading import GradeScheme, GradingRunRecord, builtin_schemes, load_scheme
from crmcore.grading.history import latest_grades
from crmcore.grading.service import grade_stored
from crmcore.i18n import N_, tr

if TYPE_CHECKING:
    from crmcore.app import CRM

__all__ = ["grades_in_force", "policy_scheme", "stored_scheme"]


def stored_scheme(crm: CRM, *, as_of: datetime | None = None) -> str | None:
    """The name of the scheme whose grading run (as of ``as_of`` or before) was stored last."""
    until = None if as_of is None else as_of + timedelta(microseconds=1)
    runs = crm.find(GradingRunRecord, until=until)
    if not runs:
        return None
    return max(runs, key=lambda run: (run.as_of, run.recorded_at, run.id)).scheme


def _named(name: str, origin: str) -> GradeScheme:
    try:
        return load_scheme(name)
    except ConfigError:
        raise ConfigError(tr(
            "scheme: {name!r} ({origin}) is not a built-in scheme ({schemes}) nor a readable "
            "file; a scheme loaded from a file carries its own follow-up principles: name that "
            "file (--scheme FILE or [run] scheme = \"FILE\")").format(
                name=name, origin=tr(origin), schemes=", ".join(builtin_schemes()))) from None


def policy_scheme(crm: CRM, scheme: str | GradeScheme | None = None, *,
                  as_of: datetime | None = None) -> GradeScheme | None:
    """The grading scheme whose grades and follow-up principles the policies follow.

    ``scheme`` (a scheme, a built-in name or a file path) wins; then the
    configuration's ``[run] scheme``; then the scheme stored most recently by
    ``as_of``; else None.
    """
    if isinstance(scheme, GradeScheme):
        return scheme
    if scheme is not None:
        return _named(scheme, N_("given"))
    run = crm.settings("run")
    if run.has("scheme"):
        return _named(run.text("scheme"), N_("the configuration's run.scheme"))
    stored = stored_scheme(crm, as_of=as_of)
    if stored is not None:
        return _named(stored, N_("the scheme of the latest stored grading run"))
    return None


def grades_in_force(crm: CRM, scheme: GradeScheme, *, as_of: datetime) -> dict[str, str]:
    """Customer id -> latest stored grade of ``scheme`` by ``as_of``; when the scheme has
    no stored grade at all, the book graded as of ``as_of`` without storing anything."""
    grades = latest_grades(crm, scheme.name, as_of=as_of)
    if grades:
        return grades
    table = grade_stored(crm, scheme, as_of=as_of)
    return dict(zip(table.ids, table.grade_list, strict=True))
