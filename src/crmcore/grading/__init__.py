"""Customer grading (G1-G8): schemes as data, explained, fast on a million customers.

Typical use::

    from crmcore.grading import latest_grades, load_scheme, run_grading

    scheme = load_scheme("pareto-abc")
    run = run_grading(crm, scheme, as_of=datetime(2026, 6, 30, tzinfo=UTC))
    run.result("C00042").explanation.text()
    latest_grades(crm, "pareto-abc")     # {customer id: grade in force}

Customer value (G7): :class:`DeliveredValue`, :func:`simple_lifetime_value`.
The pure core: :func:`compute_metrics` (columns → metrics),
:func:`grade_metrics` / :func:`grade_book` (→ :class:`GradeTable`). The
application level: :func:`run_grading` and :func:`record_grades`.
"""

from crmcore.grading.columns import TransactionColumns, read_transaction_columns
from crmcore.grading.conditions import (
    AllOf,
    Always,
    AnyOf,
    Between,
    Compare,
    Condition,
    FieldRef,
    OneOf,
    Source,
    check_ranges,
)
from crmcore.grading.engine import (
    columnar_potential,
    grade_book,
    grade_metrics,
    potential_scores,
    potential_strategy,
)
from crmcore.grading.followup import FollowUpPolicy
from crmcore.grading.history import latest_grades
from crmcore.grading.hysteresis import Hysteresis, decide, settle
from crmcore.grading.matrix import AxisSplit, MatrixRules, SplitMethod
from crmcore.grading.metrics import (
    METRICS,
    MetricTable,
    compute_metrics,
    reference_metrics,
    window_start,
)
from crmcore.grading.prospects import ProspectRules
from crmcore.grading.rank import Basis, RankCut, RankOutcome, rank_cut
from crmcore.grading.ranked import RankedRules
from crmcore.grading.records import (
    GRADE_PENDING,
    GRADING_RUN,
    GradingRunRecord,
    PendingDowngrade,
)
from crmcore.grading.results import (
    GRADE_RESULT,
    Explainer,
    Explanation,
    GradeResult,
    GradeTable,
    Summary,
)
from crmcore.grading.rfm import RfmRules, RfmScores, rfm_scores
from crmcore.grading.schemes import (
    Grade,
    GradeScheme,
    SchemeKind,
    builtin_schemes,
    load_scheme,
    parse_scheme,
    scheme_from_mapping,
)
from crmcore.grading.service import (
    GRADE_CHANGED,
    GRADING_COMPLETED,
    GradeResults,
    GradingRun,
    configured_keep_runs,
    grade_stored,
    record_grades,
    run_grading,
)
from crmcore.grading.thresholds import ThresholdRule, ThresholdRules
from crmcore.grading.value import DeliveredValue, LifetimeValue, simple_lifetime_value

__all__ = [
    "GRADE_CHANGED",
    "GRADE_PENDING",
    "GRADE_RESULT",
    "GRADING_COMPLETED",
    "GRADING_RUN",
    "METRICS",
    "AllOf",
    "Always",
    "AnyOf",
    "AxisSplit",
    "Basis",
    "Between",
    "Compare",
    "Condition",
    "DeliveredValue",
    "Explainer",
    "Explanation",
    "FieldRef",
    "FollowUpPolicy",
    "Grade",
    "GradeResult",
    "GradeResults",
    "GradeScheme",
    "GradeTable",
    "GradingRun",
    "GradingRunRecord",
    "Hysteresis",
    "LifetimeValue",
    "MatrixRules",
    "MetricTable",
    "OneOf",
    "PendingDowngrade",
    "ProspectRules",
    "RankCut",
    "RankOutcome",
    "RankedRules",
    "RfmRules",
    "RfmScores",
    "SchemeKind",
    "Source",
    "SplitMethod",
    "Summary",
    "ThresholdRule",
    "ThresholdRules",
    "TransactionColumns",
    "builtin_schemes",
    "check_ranges",
    "columnar_potential",
    "compute_metrics",
    "configured_keep_runs",
    "decide",
    "grade_book",
    "grade_metrics",
    "grade_stored",
    "latest_grades",
    "load_scheme",
    "parse_scheme",
    "potential_scores",
    "potential_strategy",
    "rank_cut",
    "read_transaction_columns",
    "record_grades",
    "reference_metrics",
    "rfm_scores",
    "run_grading",
    "scheme_from_mapping",
    "settle",
    "simple_lifetime_value",
    "window_start",
]
