"""Follow-up principles per grade (G6, G8), for the service policies to apply.

A scheme's document carries one ``[followup.<grade>]`` table per grade it
wants to steer; the service-policy capability reads them through
:meth:`crmcore.grading.GradeScheme.policy`.
"""

from __future__ import annotations

import attrs

from crmcore.errors import ConfigError
from crmcore.grading._document import Table
from crmcore.i18n import tr
from crmcore.model import Priority
from crmcore.validation import int_between, optional
from crmcore.vocabulary import member


@attrs.frozen
class FollowUpPolicy:
    """How to treat the customers of one grade.

    ``contact_every_days``: how often to visit or call; ``response_hours``:
    the response target for their requests; ``complaint_priority``: the
    priority their complaints get (A first, S7); ``nurture_toward``: the
    grade to develop them toward (B toward A); ``notes``: the practice in
    words (G6).
    """

    contact_every_days: int | None = attrs.field(default=None,
                                                 validator=optional(int_between(1, 3660)))
    response_hours: int | None = attrs.field(default=None, validator=optional(int_between(1)))
    complaint_priority: Priority | None = None
    nurture_toward: str | None = None
    notes: str = ""


def parse_followup(table: Table) -> FollowUpPolicy:
    """Read one ``[followup.<grade>]`` table."""
    priority_text = table.text("complaint_priority", None)
    if priority_text is not None:  # a code or its Chinese term (紧急, 高, 普通, 低)
        try:
            priority_text = member(Priority, priority_text, "complaint_priority").value
        except ValueError as error:
            raise ConfigError(tr("{key}: {value!r} {reason}").format(
                key=table.key("complaint_priority"), value=priority_text,
                reason=getattr(error, "reason", error))) from None
    days = table.integer("contact_every_days", None, minimum=1)
    hours = table.integer("response_hours", None, minimum=1)
    toward = table.text("nurture_toward", None)
    notes = table.text("notes", "")
    table.check_all_used()
    try:
        return FollowUpPolicy(days, hours, None if priority_text is None
                              else Priority(priority_text), toward, notes)
    except ValueError as error:
        raise ConfigError(tr("{key}: {error}").format(key=table.key("")[:-1],
                                                      error=error)) from None
