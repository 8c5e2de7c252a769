"""The demo stores its grading run, so that grades drive service in the demo book (G6).

The run grades with the daily run's scheme (``[run] scheme``, default
``pareto-abc``): the scheme the agenda, compliance, escalations and the SLA
table then follow (:func:`crmcore.policies.scheme.policy_scheme`).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from crmcore.daily.run import RunSettings
from crmcore.grading import load_scheme
from crmcore.grading.service import GradingRun, run_grading

if TYPE_CHECKING:
    from crmcore.app import CRM

__all__ = ["store_demo_grades"]


def store_demo_grades(crm: CRM, as_of: datetime) -> GradingRun:
    """Grade the stored book as of ``as_of`` with the daily run's scheme and store the run
    (a second call for the same ``as_of`` stores nothing)."""
    settings = RunSettings.from_crm(crm)
    return run_grading(crm, load_scheme(settings.scheme), as_of=as_of,
                       window_months=settings.window_months)
