"""Reading the numbers a report or compare output prints back as a careful user would: each printed value as the
range of true values that rounds to it, so a recomputation can be checked "within rounding" and nothing looser."""

from __future__ import annotations

import re
from dataclasses import dataclass

NUMBER = r"[\d,]+(?:\.\d+)?"
RATE = NUMBER + r"[kM]?"
SCALE = {"": 1.0, "k": 1e3, "M": 1e6}


@dataclass(frozen=True)
class Printed:
    """A printed number as the interval of values that print as it."""

    low: float
    high: float

    def __truediv__(self, other: Printed) -> Printed:
        return Printed(self.low / other.high, self.high / other.low)

    def __mul__(self, other: Printed) -> Printed:
        return Printed(self.low * other.low, self.high * other.high)

    def overlaps(self, other: Printed) -> bool:
        return self.low <= other.high and other.low <= self.high


def printed(text: str) -> Printed:
    """'21.0k' -> [20,950, 21,050]; '5,995' -> [5,994.5, 5,995.5]; '+55.1' -> [55.05, 55.15]."""
    match = re.fullmatch(r"([+\-−]?)([\d,]+)(?:\.(\d+))?([kM]?)", text.strip())
    if match is None:
        raise ValueError(f"not a printed number: {text!r}")
    sign = -1.0 if match.group(1) in ("-", "−") else 1.0
    decimals = match.group(3) or ""
    value = float(match.group(2).replace(",", "") + (f".{decimals}" if decimals else ""))
    half = 0.5 * 10 ** -len(decimals)
    scale = SCALE[match.group(4)]
    low, high = (value - half) * scale, (value + half) * scale
    return Printed(*sorted((sign * low, sign * high)))


def ratio_of_pct(text: str) -> Printed:
    """'+55.1' (a printed % change) as the ratio interval it stands for."""
    pct = printed(text)
    return Printed(1 + pct.low / 100, 1 + pct.high / 100)


def agrees(claimed: Printed, numerator: str, denominator: str) -> bool:
    """The printed ratio can be the quotient of the two printed throughputs, within rounding."""
    return claimed.overlaps(printed(numerator) / printed(denominator))
