"""Before/after comparison of a measure with the test that suits it (P3).

Proportions (complaint, return, awareness rates) use the two-proportion z
test; means (CSAT, reputation, sales power) Welch's t test; NPS its own z
test (see :mod:`crmcore.improvement.statistics`). Without enough data
(no responses, or fewer than two values of a mean) there is no test.
"""

from __future__ import annotations

from crmcore.errors import ValidationError
from crmcore.i18n import tr
from crmcore.improvement.measures import MeasureKind, MeasureValue
from crmcore.improvement.statistics import (
    TestResult,
    nps_z_test,
    two_proportion_z_test,
    welch_t_test,
)


def compare(before: MeasureValue, after: MeasureValue) -> TestResult | None:
    """Test ``after - before`` of one measure; None when the data cannot support a test."""
    if before.measure != after.measure or before.kind is not after.kind:
        raise ValidationError("after", after.measure,
                              tr("cannot be compared with {measure!r}").format(
                                  measure=before.measure))
    if before.value is None or after.value is None:
        return None
    if before.kind is MeasureKind.PROPORTION:
        return two_proportion_z_test(before.successes, before.n, after.successes, after.n)
    if before.kind is MeasureKind.NPS:
        return nps_z_test(before.promoters, before.detractors, before.n,
                          after.promoters, after.detractors, after.n)
    if before.sd is None or after.sd is None:
        return None
    return welch_t_test(before.value, before.sd, before.n, after.value, after.sd, after.n)
