"""Spread of per-round measurements, shared by the overhead check and the report."""

from __future__ import annotations

from statistics import median


def iqr_pct(values: list[float]) -> float | None:
    """Interquartile range as a percentage of the median (linear interpolation); None below 2 values."""
    if len(values) < 2:
        return None
    ordered = sorted(values)
    q1, q3 = _quantile(ordered, 0.25), _quantile(ordered, 0.75)
    mid = median(ordered)
    return (q3 - q1) / mid * 100 if mid else None


def _quantile(ordered: list[float], q: float) -> float:
    position = (len(ordered) - 1) * q
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)
