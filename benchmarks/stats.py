"""Samples, targets and the one table every run prints."""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

T = TypeVar("T")


def p95(samples: Sequence[float]) -> float:
    """Nearest-rank 95th percentile."""
    ordered = sorted(samples)
    return ordered[max(math.ceil(0.95 * len(ordered)), 1) - 1]


def alternate(measured: Callable[[], T], baseline: Callable[[], T], repeat: int) -> tuple[list[T], list[T]]:
    """Run ``measured`` and ``baseline`` by turns (A B A B …), ``repeat`` times each."""
    ours: list[T] = []
    theirs: list[T] = []
    for _ in range(repeat):
        ours.append(measured())
        theirs.append(baseline())
    return ours, theirs


@dataclass(frozen=True)
class Target:
    """What a benchmark must reach, judged on the medians."""

    text: str
    met: Callable[[float, float], bool]
    """``met(value, ratio)``; the value is the median, or the p95 when ``on_p95``."""
    on_p95: bool = False

    @staticmethod
    def ratio_at_most(limit: float) -> Target:
        return Target(f"<= {limit:g}x", lambda _median, ratio: ratio <= limit)

    @staticmethod
    def at_least(limit: float, unit: str) -> Target:
        return Target(f">= {limit:g} {unit}", lambda median, _ratio: median >= limit)

    @staticmethod
    def share_at_least(share: float) -> Target:
        return Target(f">= {share:.0%}", lambda _median, ratio: ratio >= share)

    @staticmethod
    def at_most(limit: float, unit: str) -> Target:
        return Target(f"<= {limit:g} {unit}", lambda median, _ratio: median <= limit)

    @staticmethod
    def p95_at_most(limit: float, unit: str) -> Target:
        return Target(f"p95 <= {limit:g} {unit}", lambda value, _ratio: value <= limit, on_p95=True)

    @staticmethod
    def below(limit: float, unit: str) -> Target:
        return Target(f"< {limit:g} {unit}", lambda median, _ratio: median < limit)


@dataclass
class Result:
    name: str
    unit: str
    samples: list[float]
    baseline: list[float]
    target: Target
    rate: bool = False
    """A rate (higher is better): the ratio is shown as a share of the baseline."""
    notes: list[str] = field(default_factory=list)

    @classmethod
    def skipped(cls, name: str, unit: str, target: Target, why: str) -> Result:
        """A benchmark that could not run here (say, without PostgreSQL): a row that says so, and why."""
        return cls(name, unit, [], [], target, notes=[f"{name}: skipped: {why}"])

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def ratio(self) -> float:
        return self.median / statistics.median(self.baseline)

    @property
    def met(self) -> bool:
        if not self.samples:
            return True  # skipped: nothing was missed, the note says why
        return self.target.met(p95(self.samples) if self.target.on_p95 else self.median, self.ratio)

    def cells(self) -> list[str]:
        if not self.samples:
            return [self.name, self.unit, "-", "-", "-", "-", self.target.text, "skipped"]
        ratio = f"{self.ratio:.0%}" if self.rate else f"{self.ratio:.2f}x"
        return [
            self.name, self.unit, _number(self.median), _number(p95(self.samples)),
            _number(statistics.median(self.baseline)), ratio, self.target.text,
            "yes" if self.met else "NO",
        ]


HEADER = ["benchmark", "unit", "median", "p95", "baseline median", "ratio", "target", "met"]
RIGHT_ALIGNED = {2, 3, 4, 5}


def _number(value: float) -> str:
    if value >= 1000:
        return f"{value:,.0f}"
    if value >= 100:
        return f"{value:.1f}"
    return f"{value:.2f}"


def table(results: Sequence[Result]) -> str:
    rows = [HEADER] + [result.cells() for result in results]
    widths = [max(len(row[i]) for row in rows) for i in range(len(HEADER))]

    def line(row: list[str]) -> str:
        cells = [cell.rjust(w) if i in RIGHT_ALIGNED else cell.ljust(w)
                 for i, (cell, w) in enumerate(zip(row, widths, strict=True))]
        return "  ".join(cells).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(rows[0]), rule] + [line(row) for row in rows[1:]])
