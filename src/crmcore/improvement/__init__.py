"""Improvement loops (P1-P7): PDCA cycles driven by measured satisfaction.

- :mod:`~crmcore.improvement.cycle`: the records of a cycle and the pure changes to them;
- :mod:`~crmcore.improvement.definitions`: the PDCA and customer-knowledge loops as TOML
  data, run by :mod:`crmcore.transitions`, and the validators they name;
- :mod:`~crmcore.improvement.measures`: the satisfaction measures (P5) with sample sizes;
- :mod:`~crmcore.improvement.statistics` and :mod:`~crmcore.improvement.comparison`:
  is a change real or noise (P3);
- :mod:`~crmcore.improvement.pareto`: the vital few causes (P1);
- :mod:`~crmcore.improvement.early_warning`: thresholds that raise warnings (P7);
- :mod:`~crmcore.improvement.charts`: Pareto and run charts (needs ``crmcore[charts]``);
- :class:`ImprovementService`: all of it through a :class:`~crmcore.CRM`.

Every phase change goes through :func:`crmcore.transitions.apply_transition`.
"""

from crmcore.improvement.charts import (
    ChartsUnavailableError,
    RunPoint,
    pareto_chart,
    run_chart,
    run_points,
)
from crmcore.improvement.comparison import compare
from crmcore.improvement.cycle import (
    DEFAULT_ALPHA,
    IMPROVEMENT_FILE,
    ActRecord,
    Cause,
    CheckResult,
    Countermeasure,
    CountermeasureStatus,
    Cycle,
    KeyFactor,
    Plan,
    Problem,
    Target,
    Verdict,
    carry_over,
    judge,
    record_act,
    record_results,
    revise_plan,
    settle,
)
from crmcore.improvement.definitions import (
    KNOWLEDGE_FLOW,
    LOOP_FILES,
    PDCA_EVENTS,
    PDCA_FLOW,
    builtin_loop,
    improvement_checks,
    knowledge_flow,
    load_loop,
    pdca_flow,
    require_events,
)
from crmcore.improvement.early_warning import (
    WARNING_EVENT,
    Comparison,
    EarlyWarning,
    WarningRule,
    evaluate,
    rules_from_data,
    rules_from_targets,
    rules_from_toml,
    warning_event,
    warning_periods,
)
from crmcore.improvement.measures import (
    MEASURES,
    Better,
    MeasureData,
    MeasureDefinition,
    MeasureKind,
    MeasureSettings,
    MeasureValue,
    measure_definition,
    measure_values,
    parse_period,
    span,
)
from crmcore.improvement.pareto import (
    ParetoRow,
    ParetoTable,
    churn_reasons,
    complaint_categories,
    pareto,
)
from crmcore.improvement.service import (
    ABANDONED,
    CycleRow,
    ImprovementService,
    causes_from_pareto,
    configured_warning_rules,
    countermeasure,
    loop_history,
    start_loop,
    step_loop,
)
from crmcore.improvement.statistics import Interval, TestResult

__all__ = [
    "ABANDONED",
    "DEFAULT_ALPHA",
    "IMPROVEMENT_FILE",
    "KNOWLEDGE_FLOW",
    "LOOP_FILES",
    "MEASURES",
    "PDCA_EVENTS",
    "PDCA_FLOW",
    "WARNING_EVENT",
    "ActRecord",
    "Better",
    "Cause",
    "ChartsUnavailableError",
    "CheckResult",
    "Comparison",
    "Countermeasure",
    "CountermeasureStatus",
    "Cycle",
    "CycleRow",
    "EarlyWarning",
    "ImprovementService",
    "Interval",
    "KeyFactor",
    "MeasureData",
    "MeasureDefinition",
    "MeasureKind",
    "MeasureSettings",
    "MeasureValue",
    "ParetoRow",
    "ParetoTable",
    "Plan",
    "Problem",
    "RunPoint",
    "Target",
    "TestResult",
    "Verdict",
    "WarningRule",
    "builtin_loop",
    "carry_over",
    "causes_from_pareto",
    "churn_reasons",
    "compare",
    "complaint_categories",
    "configured_warning_rules",
    "countermeasure",
    "evaluate",
    "improvement_checks",
    "judge",
    "knowledge_flow",
    "load_loop",
    "loop_history",
    "measure_definition",
    "measure_values",
    "pareto",
    "pareto_chart",
    "parse_period",
    "pdca_flow",
    "record_act",
    "record_results",
    "require_events",
    "revise_plan",
    "rules_from_data",
    "rules_from_targets",
    "rules_from_toml",
    "run_chart",
    "run_points",
    "settle",
    "span",
    "start_loop",
    "step_loop",
    "warning_event",
    "warning_periods",
]
