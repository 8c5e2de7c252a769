"""The M3 forecast as the ERP takes it: records, CSV, JSON, a pandas DataFrame, a chart.

Every export has the same columns (:data:`COLUMNS`), amounts rounded to cents. pandas
(``pip install 'crmcore[dataframe]'``) and matplotlib (``pip install 'crmcore[charts]'``)
are imported only by :func:`to_dataframe` and :func:`forecast_chart`; their absence
raises an error naming the extra.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from crmcore.csv_output import SafeDictWriter
from crmcore.errors import CrmError
from crmcore.improvement.charts import _figure, _save
from crmcore.sales.forecast import Forecast

if TYPE_CHECKING:
    import pandas

__all__ = ["COLUMNS", "DataFrameUnavailableError", "forecast_chart", "forecast_json",
           "forecast_records", "to_csv", "to_dataframe"]

COLUMNS = ("group", "currency", "opportunities", "pipeline", "repeat", "expected", "low",
           "high")
"""The columns of every export, in order (``group`` is a month, owner or territory)."""


class DataFrameUnavailableError(CrmError):
    """pandas is not installed."""


def forecast_records(forecast: Forecast) -> list[dict[str, Any]]:
    """One dict per row with the :data:`COLUMNS` (amounts rounded to cents)."""
    return [{"group": row.key, "currency": row.currency, "opportunities": row.opportunities,
             "pipeline": round(row.pipeline, 2), "repeat": round(row.repeat, 2),
             "expected": round(row.expected, 2), "low": round(row.low, 2),
             "high": round(row.high, 2)} for row in forecast.rows]


def to_csv(forecast: Forecast, out: TextIO) -> None:
    """Write the rows as CSV with a header line."""
    writer = SafeDictWriter(out, COLUMNS)
    writer.writeheader()
    writer.writerows(forecast_records(forecast))


def forecast_json(forecast: Forecast) -> dict[str, Any]:
    """The forecast as JSON-ready data: its rows and how it was made."""
    return {"by": forecast.by, "as_of": forecast.as_of.isoformat(), "level": forecast.level,
            "method": forecast.method, "rows": forecast_records(forecast),
            "unpriced": list(forecast.unpriced), "notes": list(forecast.notes)}


def to_dataframe(forecast: Forecast) -> pandas.DataFrame:
    """The rows as a pandas DataFrame with the :data:`COLUMNS`."""
    try:
        import pandas
    except ImportError:
        raise DataFrameUnavailableError(
            "a DataFrame needs pandas, which is not installed: pip install "
            "'crmcore[dataframe]'") from None
    return pandas.DataFrame(forecast_records(forecast), columns=list(COLUMNS))


def forecast_chart(forecast: Forecast, path: str | Path) -> Path:
    """Bars of expected revenue per group (pipeline and repeat stacked) with the interval.

    One panel per currency; ``.png`` or ``.svg`` by the file's suffix. Raises
    :class:`~crmcore.improvement.charts.ChartsUnavailableError` without matplotlib.
    """
    figure = _figure()
    currencies = sorted({row.currency for row in forecast.rows}) or ["-"]
    for index, currency in enumerate(currencies):
        axes = figure.add_subplot(len(currencies), 1, index + 1)
        rows = [row for row in forecast.rows if row.currency == currency]
        labels = [row.key for row in rows]
        pipeline = [row.pipeline for row in rows]
        axes.bar(labels, pipeline, color="#2c3e50", label="pipeline")
        axes.bar(labels, [row.repeat for row in rows], bottom=pipeline, color="#95a5a6",
                 label="repeat purchases")
        axes.errorbar(labels, [row.expected for row in rows],
                      yerr=[[row.expected - row.low for row in rows],
                            [row.high - row.expected for row in rows]],
                      fmt="none", ecolor="#c0392b", capsize=3,
                      label=f"{forecast.level:.0%} interval")
        axes.set_ylabel(f"expected ({currency})")
        axes.tick_params(axis="x", labelrotation=45)
        if index == 0:
            axes.set_title(f"Sales forecast by {forecast.by} as of "
                           f"{forecast.as_of.isoformat()}")
            axes.legend(loc="upper right", fontsize="small")
    return _save(figure, Path(path))
