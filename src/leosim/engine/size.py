"""How big a run will be, estimated before anything is allocated, and refused when it is
too big to be meant.

A run's size is its steps times its pairs. :func:`estimate` turns those (and what the
command keeps in memory) into bytes of output and of memory; :meth:`SizeEstimate.check`
refuses a run over the limit with the estimate and what to change. Every command that
steps through time asks here first: ``leosim run``, ``sweep`` and ``validate`` (through
:func:`leosim.scenario.plan.scenario_size`, before the plan allocates anything), ``pairs``
and ``path``. The numbers it counts:

- output: the pairs dataset as :data:`~leosim.engine.stores.VARIABLES` lays it out, per
  step and pair, uncompressed (zarr and netCDF compress, so the files are smaller), plus
  the time coordinates, plus what the command adds (tables, a ``path`` listing);
- memory: the time grid (times and offsets, 16 bytes a step, and as much again while the
  store writes its time coordinate), the chunks in flight (two per worker, at most
  :data:`CHUNK_BYTES_PER_STEP_PAIR` a step and pair while solved), and what the command
  keeps for the whole run: ``leosim run`` keeps the propagation RTT and the predicted ping
  of every step and pair as float32 for the sections that read them (8 bytes) and the
  traffic section copies them while it takes percentiles (about 16 bytes more);
  ``path`` keeps a row per step. Not counted: the constellation and the network, which
  do not grow with the run.

The limit is :data:`DEFAULT_MAX_BYTES` (8 GiB) of output or of memory, raised with
``--max-size``; memory is also refused above what this machine has available
(``MemAvailable``, or a container's memory limit), which no option raises.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from leosim.core.time import format_duration
from leosim.errors import ParameterError

GIB = 1024**3
#: A run that would write or hold more than this is refused unless ``--max-size`` allows it.
DEFAULT_MAX_BYTES = 8 * GIB
#: Bytes a step and pair take while a chunk is solved and handed on (the float64 and
#: integer arrays of a :class:`~leosim.engine.chunks.PairChunk`, 51 bytes, and the
#: solver's working copies).
CHUNK_BYTES_PER_STEP_PAIR = 128
#: Bytes per step of the time grid kept in memory (``times`` and ``offsets_s``).
GRID_BYTES_PER_STEP = 16
#: ``leosim run``: rtt and ping float32 kept (8 bytes) plus the traffic section's copies.
RUN_BYTES_PER_STEP_PAIR = 24

_UNITS = {
    "": 1, "b": 1, "k": 1024, "kb": 1000, "kib": 1024, "m": 1024**2, "mb": 1000**2, "mib": 1024**2,
    "g": GIB, "gb": 1000**3, "gib": GIB, "t": 1024**4, "tb": 1000**4, "tib": 1024**4,
}
_SIZE_RE = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*([a-zA-Z]*)\s*$")


def parse_size(text: str | float | int, *, what: str = "--max-size") -> float:
    """Bytes in ``"20GiB"``, ``"500MB"``, ``"2G"`` (binary) or a bare number of bytes.

    >>> parse_size("8GiB") == 8 * 1024**3, parse_size("1.5 GB"), parse_size(100)
    (True, 1500000000.0, 100.0)
    """
    if isinstance(text, (int, float)):
        value = float(text)
    else:
        m = _SIZE_RE.match(str(text))
        unit = m.group(2).lower() if m else None
        if m is None or unit not in _UNITS:
            raise ParameterError(f"cannot read {what} {str(text)!r}; expected a size such as 20GiB, 500MB or 2T")
        value = float(m.group(1)) * _UNITS[unit]
    if not math.isfinite(value) or value <= 0:
        raise ParameterError(f"{what} {text!r} is not a positive size; expected a size such as 20GiB")
    return value


def format_bytes(n: float) -> str:
    """``13.5 GiB``, ``812 MiB``, ``4.2 kB``: binary units from a MiB up."""
    if not math.isfinite(n):
        return "an unbounded amount"
    for unit, size in (("EiB", 1024**6), ("PiB", 1024**5), ("TiB", 1024**4), ("GiB", GIB), ("MiB", 1024**2)):
        if n >= size:
            v = n / size
            if unit == "EiB" and v >= 1e4:
                return f"{v:.3g} EiB"
            return f"{v:.1f} {unit}" if v < 100 else f"{v:,.0f} {unit}"
    return f"{n / 1e3:.1f} kB" if n >= 1e3 else f"{n:.0f} B"


def format_count(n: float) -> str:
    """``315,360,000``; ``1e+30`` for counts too long to read."""
    return f"{int(n):,}" if n < 1e15 else f"{n:.3g}"


def available_memory() -> float | None:
    """Bytes of memory this process could still get: ``MemAvailable``, capped by a
    container's cgroup limit; None where neither can be read."""
    best = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                best = float(line.split()[1]) * 1024
                break
    except OSError:
        pass
    if best is None and hasattr(os, "sysconf"):
        try:
            best = float(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
        except (ValueError, OSError):
            pass
    try:  # cgroup v2: the container's limit less what it uses
        limit = Path("/sys/fs/cgroup/memory.max").read_text().strip()
        if limit != "max":
            used = float(Path("/sys/fs/cgroup/memory.current").read_text().strip())
            room = float(limit) - used
            best = room if best is None else min(best, room)
    except (OSError, ValueError):
        pass
    return best


@dataclass(frozen=True)
class SizeEstimate:
    """What a command will write and hold, in bytes, before it allocates anything."""

    command: str            # "leosim run", "leosim pairs", ...
    n_steps: float          # a float: a 1e30 s duration has 1e30 steps
    n_pairs: int
    output_bytes: float
    memory_bytes: float
    at_least: bool = False  # the pairs are a lower bound (terminals read from a file are not counted yet)
    parts: dict[str, float] = field(default_factory=dict, compare=False)  # memory by what holds it
    counted: str = ""       # what is counted, when it is not steps x pairs ("2,881 samples x 192 satellites")

    def describe(self) -> str:
        """``315,360,000 steps x 4 pairs: about 13.5 GiB of output (uncompressed) and 9.4 GiB of memory``."""
        pairs = f"{'at least ' if self.at_least else ''}{format_count(self.n_pairs)} pair{'s' if self.n_pairs != 1 else ''}"
        counted = self.counted or f"{format_count(self.n_steps)} step{'s' if self.n_steps != 1 else ''} x {pairs}"
        return (f"{counted}: about {format_bytes(self.output_bytes)} of output (uncompressed) and "
                f"{format_bytes(self.memory_bytes)} of memory")

    def check(self, max_bytes: float | None = None, *, fix: str = "a coarser --step or a shorter --duration",
              available: float | None = -1.0) -> SizeEstimate:
        """Refuse (:class:`~leosim.errors.ParameterError`) an estimate over ``max_bytes``
        (default :data:`DEFAULT_MAX_BYTES`) of output or of memory, or over the memory this
        machine has available; ``fix`` says what to change. Returns itself."""
        limit = DEFAULT_MAX_BYTES if max_bytes is None else float(max_bytes)
        room = available_memory() if available == -1.0 else available
        if room is not None and self.memory_bytes > room:
            raise ParameterError(
                f"{self.command} would need {self.describe()}, more memory than this machine has available "
                f"({format_bytes(room)}); expected {fix}"
            )
        big = max(self.output_bytes, self.memory_bytes)
        if big > limit:
            allow = format_bytes(_round_up(big)).replace(".0 ", "").replace(" ", "")
            raise ParameterError(
                f"{self.command} would make {self.describe()}, over the {format_bytes(limit)} limit; "
                f"expected {fix}, or --max-size {allow} to allow it"
            )
        return self


def _round_up(n: float) -> float:
    """A round size at or above ``n`` (the next whole GiB, TiB, ...), to suggest."""
    for size in (1024**6, 1024**5, 1024**4, GIB):
        if n >= size:
            return math.ceil(n / size) * size if n / size < 1e6 else n
    return GIB


def store_bytes(n_steps: float, n_pairs: int) -> float:
    """Bytes of a pairs dataset (:data:`~leosim.engine.stores.VARIABLES`, uncompressed),
    with its time coordinates (``time`` int64 and ``t_s`` float64)."""
    import numpy as np

    from leosim.engine.stores import VARIABLES

    per_pair = sum(np.dtype(v.dtype).itemsize for v in VARIABLES.values() if len(v.dims) == 2)
    per_step = sum(np.dtype(v.dtype).itemsize for v in VARIABLES.values() if len(v.dims) == 1) + 16
    return float(n_steps) * (n_pairs * per_pair + per_step)


def estimate(command: str, n_steps: float, n_pairs: int, *, workers: int = 1, chunk_steps: int | None = None,
             store: bool = True, keep_bytes_per_step_pair: float = 0.0, keep_bytes_per_step: float = 0.0,
             extra_memory: float = 0.0, extra_output: float = 0.0, at_least: bool = False) -> SizeEstimate:
    """The size of stepping ``n_steps`` over ``n_pairs`` (see the module's docstring).

    ``store``: the command writes a pairs dataset. ``keep_bytes_per_step_pair`` and
    ``keep_bytes_per_step``: what it keeps in memory for the whole run; ``extra_memory``
    and ``extra_output``: what its sections add (bytes).
    """
    n_steps = float(n_steps)
    if chunk_steps is None:
        from leosim.engine.chunks import chunk_steps_for

        chunk_steps = chunk_steps_for(n_steps, n_pairs)
    in_flight = 2 * max(workers, 1) * min(chunk_steps, n_steps) * n_pairs * CHUNK_BYTES_PER_STEP_PAIR
    parts = {
        "time grid": n_steps * GRID_BYTES_PER_STEP * (2 if store else 1),
        "chunks in flight": in_flight,
        "kept for the run": n_steps * (n_pairs * keep_bytes_per_step_pair + keep_bytes_per_step),
        "sections": extra_memory,
    }
    output = (store_bytes(n_steps, n_pairs) if store else 0.0) + extra_output
    return SizeEstimate(command, n_steps, int(n_pairs), output, sum(parts.values()), at_least, parts)


__all__ = [
    "CHUNK_BYTES_PER_STEP_PAIR", "DEFAULT_MAX_BYTES", "GIB", "RUN_BYTES_PER_STEP_PAIR", "SizeEstimate",
    "available_memory", "estimate", "format_bytes", "format_count", "format_duration", "parse_size", "store_bytes",
]
