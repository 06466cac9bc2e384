"""Times and durations at the boundary, and the time grid the engine steps through.

Times are UTC ``numpy.datetime64[ns]``. Inside, the engine works with seconds since the
grid start (float64) and with the split Julian dates that SGP4 and the Earth-rotation
model want.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from leosim.errors import ParameterError

_NS_PER_S = 1_000_000_000
_UNIX_EPOCH_JD = 2440587.5
_DURATION_UNITS_S = {
    "ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0, "sec": 1.0, "min": 60.0, "m": 60.0,
    "h": 3600.0, "hr": 3600.0, "d": 86400.0, "day": 86400.0, "days": 86400.0,
}
_DURATION_RE = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*([a-z]*)\s*$")
_UTC_OFFSET_RE = re.compile(r"\d\d:\d\d(?::\d\d(?:\.\d*)?)?([+-])(\d\d):?(\d\d)$")
_DURATION_HELP = "a positive number with a unit, e.g. 100ms, 15s, 10min, 2h, 1d"

#: The instants leosim accepts, inclusive. Times are numpy ``datetime64[ns]``, which holds
#: only 1677-09-21 to 2262-04-11 and wraps silently outside it ('2300-01-01' became 1715,
#: '1600-01-01' 2184), so a bound is needed in any case. Within that, no element set is
#: older than Sputnik 1 (launched 1957-10-04), a TLE's two-digit epoch year reaches only
#: 1957-2056, and the Julian-date conversions SGP4 is written with (Vallado's ``jday`` and
#: ``days2mdhms``) hold for 1900-2100: so leosim stops at 2100-01-01.
TIME_SPAN_START = np.datetime64("1957-10-04T00:00:00", "ns")
TIME_SPAN_END = np.datetime64("2100-01-01T00:00:00", "ns")
_TIME_SPAN_TEXT = "1957-10-04 to 2100-01-01"
_TIME_SPAN_WHY = (
    "leosim's times are numpy datetime64[ns] and SGP4 element sets, which begin with "
    "Sputnik 1 in 1957; leosim stops at 2100"
)
#: The longest duration accepted: 100 years (3.16e9 s). Longer ones cannot fit in the
#: supported time span anyway, and a duration of 1e30 s overflowed the nanosecond grid.
MAX_DURATION_S = 100 * 365.25 * 86400.0


def parse_duration(value: str | float | int, *, what: str = "duration") -> float:
    """Seconds in a duration such as ``"100ms"``, ``"15s"``, ``"10min"`` or ``"2h"``.

    A bare number is seconds. Raises ParameterError for negative, zero, non-finite or
    unparsable values and for durations over :data:`MAX_DURATION_S` (100 years).

    >>> parse_duration("100ms"), parse_duration("10min"), parse_duration(2.5)
    (0.1, 600.0, 2.5)
    """
    if isinstance(value, (bool, np.bool_)):
        raise ParameterError(f"{what} {value!r} is not a number; expected {_DURATION_HELP}")
    if isinstance(value, (int, float, np.floating, np.integer)):
        if isinstance(value, int) and abs(value) > 10**18:
            # repr of over 4,300 digits raises ValueError; float() of over 308 OverflowError
            text = f"{'-' if value < 0 else ''}(an integer of about {value.bit_length() * 0.30103:,.0f} digits)"
            seconds = -1.0 if value < 0 else 2 * MAX_DURATION_S
        else:
            text, seconds = repr(value), float(value)
    else:
        text = str(value)
        if len(text) > 64:  # no duration is written this long; keep the message short
            raise ParameterError(f"cannot read {what} {text[:40]!r}... ({len(text):,} characters); expected {_DURATION_HELP}")
        m = _DURATION_RE.match(text.lower())
        if text.strip().startswith("-"):
            raise ParameterError(
                f"{what} {text!r} is negative; expected {_DURATION_HELP}"
            )
        if not m or m.group(2) not in _DURATION_UNITS_S and m.group(2) != "":
            raise ParameterError(
                f"cannot read {what} {text!r}; expected {_DURATION_HELP}"
            )
        seconds = float(m.group(1)) * _DURATION_UNITS_S.get(m.group(2) or "s")
    if not np.isfinite(seconds):
        raise ParameterError(f"{what} {text} is not a finite number; expected {_DURATION_HELP}")
    if seconds <= 0:
        raise ParameterError(f"{what} {text} is not positive; expected {_DURATION_HELP}")
    if seconds > MAX_DURATION_S:
        raise ParameterError(
            f"{what} {text} is longer than 100 years ({MAX_DURATION_S:.4g} s), the longest leosim "
            f"accepts; expected {_DURATION_HELP}"
        )
    return seconds


def parse_time(value: str | np.datetime64) -> np.datetime64:
    """A UTC instant from ISO 8601 text (``2026-05-13T00:00:00Z``) as datetime64[ns].

    A UTC offset after the time of day (``2026-05-13T05:30+05:30``) is applied, giving
    the same instant in UTC.

    Instants outside :data:`TIME_SPAN_START` to :data:`TIME_SPAN_END` (1957-10-04 to
    2100-01-01) are refused, naming the value, rather than wrapped.

    >>> parse_time("2026-05-13T00:00:00Z")
    np.datetime64('2026-05-13T00:00:00.000000000')
    """
    if isinstance(value, np.datetime64):
        if np.isnat(value):
            raise ParameterError("cannot read time NaT (not a time); expected an instant from " + _TIME_SPAN_TEXT)
        _check_in_span(value.astype("datetime64[s]"), repr(str(value)))
        return value.astype("datetime64[ns]")
    text = str(value).strip()
    if len(text) > 64:  # no instant is written this long; keep the message short
        raise ParameterError(
            f"cannot read time {text[:40]!r}... ({len(text):,} characters); expected ISO 8601 UTC such as "
            "2026-05-13T00:00:00Z or 2026-05-13 00:00"
        )
    core = text[:-1] if text.endswith(("Z", "z")) else text
    # a UTC offset after a time of day (+05:30, -0800): numpy would warn and drop it
    offset_s = 0
    zone = _UTC_OFFSET_RE.search(core)
    if zone:
        sign = -1 if zone.group(1) == "-" else 1
        hours, minutes = int(zone.group(2)), int(zone.group(3))
        if hours > 23 or minutes > 59:
            raise ParameterError(f"cannot read time {text!r}: UTC offset out of range; expected at most +-23:59")
        offset_s = sign * (hours * 3600 + minutes * 60)
        core = core[: zone.start(1)]
    try:
        # seconds first: they hold any year, where [ns] would wrap outside 1677-2262
        t_s = np.datetime64(core, "s") - np.timedelta64(offset_s, "s")
        t = np.datetime64(core, "ns") - np.timedelta64(offset_s, "s")
    except (ValueError, OverflowError):
        t_s = t = None
    if t is None or np.isnat(t):
        raise ParameterError(
            f"cannot read time {text!r}; expected ISO 8601 UTC such as "
            "2026-05-13T00:00:00Z or 2026-05-13 00:00"
        )
    _check_in_span(t_s, repr(text))
    if t > TIME_SPAN_END:  # within the last second of the span, to the nanosecond
        _check_in_span(TIME_SPAN_END.astype("datetime64[s]") + np.timedelta64(1, "s"), repr(text))
    return t


def _check_in_span(t_s: np.datetime64, shown: str, what: str = "time") -> None:
    """Raise ParameterError if ``t_s`` (datetime64[s]) lies outside the supported span."""
    if np.isnat(t_s):
        return
    if t_s < TIME_SPAN_START.astype("datetime64[s]") or t_s > TIME_SPAN_END.astype("datetime64[s]"):
        raise ParameterError(
            f"{what} {shown} is outside the supported span {_TIME_SPAN_TEXT} ({_TIME_SPAN_WHY}); "
            f"expected an instant from {_TIME_SPAN_TEXT}"
        )


def format_time(t: np.datetime64) -> str:
    """ISO 8601 UTC text with a trailing Z, to the millisecond."""
    return str(np.datetime_as_string(np.datetime64(t, "ms"), unit="ms")) + "Z"


def format_duration(s: float) -> str:
    """Seconds as one reads them: ``2.1 ms``, ``0.21 s``, ``14 s``, ``1 min 40 s``,
    ``2 h 5 min``, ``3 d 4 h``.

    >>> format_duration(0.0021), format_duration(0.21), format_duration(14.2), format_duration(100)
    ('2.1 ms', '0.21 s', '14 s', '1 min 40 s')
    >>> format_duration(7500), format_duration(3 * 86400 + 4 * 3600)
    ('2 h 5 min', '3 d 4 h')
    """
    if not math.isfinite(s):
        return "an unbounded time"
    if s < 0.0995:
        return f"{s * 1e3:.1f} ms" if s < 0.00995 else f"{s * 1e3:.0f} ms"
    if s < 1:
        return f"{s:.2f} s"
    if s < 10:
        return f"{s:.1f} s"
    if s < 59.5:
        return f"{s:.0f} s"
    for big, big_unit, small, small_unit in ((86400, "d", 3600, "h"), (3600, "h", 60, "min"), (60, "min", 1, "s")):
        if s >= big - small / 2:
            n = round(s / small)  # whole small units, carried into the big one
            hi, lo = divmod(n, big // small)
            if big_unit == "d" and hi >= 1e4:
                return f"{s / 86400:.3g} d"
            return f"{hi:,} {big_unit}" + (f" {lo} {small_unit}" if lo else "")
    raise AssertionError(s)  # unreachable: s >= 59.5 matches the last row


def jd_split(times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Whole and fractional UTC Julian dates of datetime64 times, for SGP4.

    The split keeps sub-microsecond precision: ``jd`` is the Julian date of the
    preceding midnight and ``fr`` the fraction of the day since then.
    """
    ns = np.asarray(times, dtype="datetime64[ns]").astype(np.int64)
    days, ns_in_day = np.divmod(ns, 86400 * _NS_PER_S)
    return days + _UNIX_EPOCH_JD, ns_in_day / (86400.0 * _NS_PER_S)


@dataclass(frozen=True)
class TimeGrid:
    """Evenly spaced UTC instants: ``start + k * step_s`` for ``k = 0 .. n - 1``.

    The grid covers ``[start, start + duration)``; a duration that is a whole number of
    steps gives ``duration / step`` instants.
    """

    start: np.datetime64
    step_s: float
    n_steps: int

    @classmethod
    def from_duration(
        cls, start: np.datetime64 | str, duration_s: float | str, step_s: float | str
    ) -> TimeGrid:
        start = parse_time(start)
        duration = parse_duration(duration_s, what="duration")
        step = parse_duration(step_s, what="step")
        if step > duration:
            raise ParameterError(
                f"step {step:g} s is longer than the duration {duration:g} s; "
                "expected a step no longer than the duration"
            )
        if step < 1e-3:
            raise ParameterError(f"step {step:g} s is below 1 ms; expected at least 1ms")
        end_s = start.astype("datetime64[s]") + np.timedelta64(int(np.ceil(duration)), "s")
        _check_in_span(end_s, f"{format_time(start)} + {duration:g} s", what="the run's end")
        n = int(np.floor(duration / step + 1e-9))
        return cls(start=start, step_s=step, n_steps=max(n, 1))

    @cached_property
    def offsets_s(self) -> np.ndarray:
        """Seconds since ``start`` of each instant, shape ``(n_steps,)``."""
        return np.arange(self.n_steps, dtype=np.float64) * self.step_s

    @cached_property
    def times(self) -> np.ndarray:
        """The instants as datetime64[ns], shape ``(n_steps,)``."""
        return self.start + (self.offsets_s * _NS_PER_S).round().astype("timedelta64[ns]")

    @property
    def duration_s(self) -> float:
        return self.n_steps * self.step_s

    def __len__(self) -> int:
        return self.n_steps

    def chunks(self, chunk_steps: int) -> list[tuple[int, int]]:
        """Half-open index ranges ``[i0, i1)`` of at most ``chunk_steps`` steps."""
        return [
            (i, min(i + chunk_steps, self.n_steps))
            for i in range(0, self.n_steps, chunk_steps)
        ]


# ----------------------------------------------------------------- the 15 s schedule
#: Starlink re-plans every terminal's serving satellite every 15 s, at :12, :27, :42 and
#: :57 s past each minute of UTC (Tanveer et al. 2023; Mohan et al., WWW 2024). Attachment,
#: cross-shell laser links, capacity intervals and emulation transients all use this.
RECONFIGURATION_INTERVAL_S = 15.0
RECONFIGURATION_PHASE_S = 12.0


def reconfiguration_start(
    t_unix_s: float | np.ndarray,
    interval_s: float = RECONFIGURATION_INTERVAL_S,
    phase_s: float = RECONFIGURATION_PHASE_S,
) -> float | np.ndarray:
    """Start (unix s) of the reconfiguration interval that contains ``t_unix_s``.

    >>> reconfiguration_start(30.0), reconfiguration_start(27.0)
    (27.0, 27.0)
    """
    start = np.floor((np.asarray(t_unix_s, dtype=np.float64) - phase_s) / interval_s) * interval_s + phase_s
    return start if np.ndim(start) else float(start)


def reconfiguration_offsets_s(
    start_unix_s: float,
    duration_s: float,
    interval_s: float = RECONFIGURATION_INTERVAL_S,
    phase_s: float = RECONFIGURATION_PHASE_S,
) -> np.ndarray:
    """Offsets (s from ``start_unix_s``) of the reconfigurations inside ``[0, duration_s)``.

    >>> reconfiguration_offsets_s(0.0, 30.0).tolist()  # 00:00:00 UTC: the next are :12 and :27
    [12.0, 27.0]
    >>> reconfiguration_offsets_s(12.0, 1.0).tolist()   # starting exactly on one includes it
    [0.0]
    """
    first = phase_s + np.ceil((start_unix_s - phase_s) / interval_s - 1e-9) * interval_s
    return np.arange(first - start_unix_s, duration_s, interval_s)


def reconfiguration_starts(
    start,
    duration_s: float,
    interval_s: float = RECONFIGURATION_INTERVAL_S,
    phase_s: float = RECONFIGURATION_PHASE_S,
) -> np.ndarray:
    """Starts (datetime64[ns]) of the intervals that overlap ``[start, start + duration)``;
    the first is the interval that contains ``start``.

    >>> reconfiguration_starts(np.datetime64("2026-05-13T00:00:00"), 30.0).astype(str).tolist()
    ['2026-05-12T23:59:57.000000000', '2026-05-13T00:00:12.000000000', '2026-05-13T00:00:27.000000000']
    """
    t = np.datetime64(start, "ns").astype(np.int64)
    step = int(round(interval_s * 1e9))
    phase = int(round(phase_s * 1e9))
    first = (t - phase) // step * step + phase
    end = t + int(round(duration_s * 1e9))
    n = max(1, int(-(-(end - first) // step)))
    return (first + step * np.arange(n)).astype("datetime64[ns]")
