"""Grade where the data lives: crmcore's metrics as Ibis expressions (the ``pushdown`` extra).

:mod:`crmcore_plugins.pushdown.metrics` expresses the grading metrics, the
value ranks with crmcore's tie rule and the lifecycle evidence once, for
every engine Ibis compiles to; only one row per customer leaves the engine.
Needs ``pip install 'crmcore[pushdown]'``.
"""
