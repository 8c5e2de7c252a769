"""A regularised logistic regression on grouped 0/1 outcomes, in pure Python (M1).

Each row is a *pattern*: the indices of its active (one-hot) coefficients, how many
opportunities with that pattern were won and how many closed in all. The coefficients
``theta`` maximise the binomial log-likelihood plus a Gaussian log-prior
``-1/2 sum_j precision_j (theta_j - mean_j)^2``; the objective is strictly concave, so
the maximum is unique and Newton's method (with step halving) reaches it from any start.
That is what makes incremental refits exact: a warm start from the previous
coefficients converges to the same maximum as a fit from zero.

The sums run over the rows in the order given; callers pass them sorted so the same
data gives bit-identical coefficients.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["Pattern", "Solution", "fit_logistic", "sigmoid", "softplus"]

Pattern = tuple[tuple[int, ...], int, int]
"""``(active coefficient indices, wins, total)`` of one group of closed opportunities."""


def sigmoid(x: float) -> float:
    """``1 / (1 + exp(-x))`` without overflow."""
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    z = math.exp(x)
    return z / (1.0 + z)


def softplus(x: float) -> float:
    """``log(1 + exp(x))`` without overflow."""
    return max(x, 0.0) + math.log1p(math.exp(-abs(x)))


@dataclass(frozen=True)
class Solution:
    """Fitted coefficients, the Newton iterations used and whether the steps converged."""

    theta: tuple[float, ...]
    iterations: int
    converged: bool


def _objective(rows: Sequence[Pattern], theta: Sequence[float], mean: Sequence[float],
               precision: Sequence[float]) -> float:
    total = 0.0
    for active, wins, count in rows:
        eta = math.fsum(theta[j] for j in active)
        total += wins * eta - count * softplus(eta)
    penalty = math.fsum(t * (c - m) ** 2 for c, m, t in zip(theta, mean, precision, strict=True))
    return total - 0.5 * penalty


def _gradient_and_information(
    rows: Sequence[Pattern], theta: Sequence[float], mean: Sequence[float],
    precision: Sequence[float],
) -> tuple[list[float], list[list[float]]]:
    size = len(theta)
    gradient = [-t * (c - m) for c, m, t in zip(theta, mean, precision, strict=True)]
    information = [[0.0] * size for _ in range(size)]
    for j, t in enumerate(precision):
        information[j][j] = t
    for active, wins, count in rows:
        p = sigmoid(math.fsum(theta[j] for j in active))
        residual = wins - count * p
        weight = count * p * (1.0 - p)
        for a in active:
            gradient[a] += residual
            row = information[a]
            for b in active:
                row[b] += weight
    return gradient, information


def _cholesky_solve(matrix: list[list[float]], vector: list[float]) -> list[float]:
    """Solve ``matrix x = vector`` for a symmetric positive-definite ``matrix``."""
    size = len(vector)
    lower = [[0.0] * size for _ in range(size)]
    for i in range(size):
        row_i = lower[i]
        for j in range(i + 1):
            row_j = lower[j]
            s = matrix[i][j] - math.fsum(row_i[k] * row_j[k] for k in range(j))
            if i == j:
                row_i[i] = math.sqrt(max(s, 1e-300))
            else:
                row_i[j] = s / row_j[j]
    forward = [0.0] * size
    for i in range(size):
        forward[i] = (vector[i] - math.fsum(lower[i][k] * forward[k] for k in range(i))
                      ) / lower[i][i]
    solution = [0.0] * size
    for i in reversed(range(size)):
        solution[i] = (forward[i] - math.fsum(lower[k][i] * solution[k]
                                              for k in range(i + 1, size))) / lower[i][i]
    return solution


def fit_logistic(
    rows: Sequence[Pattern],
    *,
    mean: Sequence[float],
    precision: Sequence[float],
    start: Sequence[float] | None = None,
    tolerance: float = 1e-10,
    max_iterations: int = 100,
) -> Solution:
    """The coefficients maximising the penalised log-likelihood of ``rows``.

    ``mean`` and ``precision`` give each coefficient's Gaussian prior (all precisions
    must be > 0, which makes the problem strictly concave). ``start`` is the warm start
    (default: the prior means). Stops when no coefficient moves by more than
    ``tolerance``.
    """
    if len(mean) != len(precision) or any(t <= 0 for t in precision):
        raise ValueError("fit_logistic needs one positive precision per coefficient")
    theta = list(start) if start is not None else list(mean)
    if len(theta) != len(mean):
        raise ValueError("fit_logistic: start has the wrong length")
    current = _objective(rows, theta, mean, precision)
    for iteration in range(1, max_iterations + 1):
        gradient, information = _gradient_and_information(rows, theta, mean, precision)
        step = _cholesky_solve(information, gradient)
        scale = 1.0
        while True:
            candidate = [c + scale * s for c, s in zip(theta, step, strict=True)]
            value = _objective(rows, candidate, mean, precision)
            if value >= current - 1e-12 * abs(current) or scale < 1e-6:
                break
            scale /= 2.0
        theta, current = candidate, value
        if max((abs(s) * scale for s in step), default=0.0) < tolerance:
            return Solution(tuple(theta), iteration, True)
    return Solution(tuple(theta), max_iterations, False)
