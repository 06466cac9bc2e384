"""What an emulated link does over time: one-way delay per direction, loss and outages.

This is the pure part of emulation (no root, no namespaces): a computed RTT series becomes
an :class:`EmulationSchedule` sampled every ``update_s`` (at most 100 ms), with the 15 s
reconfiguration transients of docs/design.md added at the globally synchronised instants
(:12, :27, :42, :57 s of each minute):

- one-way delay in each direction = RTT / 2 (the router gives the round trip only);
- at each reconfiguration, an RTT spike of +30 to 50 ms (drawn per event from the seed; half
  in each direction) lasting ``spike_s`` and a loss burst (``burst_loss`` probability for ``burst_s``);
- elsewhere ~1 % non-congestive loss (Huston 2024; Michel et al., IMC 2022);
- a step with no path (RTT NaN) is an outage: every packet is dropped.

The backends (``leosim.apps.netemu``) replay a schedule; :class:`Dropper` is the per-packet
loss decision they share, seeded so that a run can be repeated.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import numpy as np

from leosim.core.time import RECONFIGURATION_INTERVAL_S, RECONFIGURATION_PHASE_S, reconfiguration_offsets_s
from leosim.errors import ParameterError

RECONFIG_PERIOD_S = RECONFIGURATION_INTERVAL_S
RECONFIG_PHASE_S = RECONFIGURATION_PHASE_S  # seconds past the minute of the first reconfiguration (:12, :27, :42, :57)
MAX_UPDATE_S = 0.1


@dataclass(frozen=True)
class LossModel:
    """Loss and transient parameters (docs/design.md: ~1 % loss; bursts and +30-50 ms spikes at handovers)."""

    loss: float = 0.01
    burst_loss: float = 0.25
    burst_s: float = 0.2
    spike_min_s: float = 0.030
    spike_max_s: float = 0.050
    spike_s: float = 0.2
    handovers: bool = True

    def __post_init__(self) -> None:
        for name in ("loss", "burst_loss"):
            v = getattr(self, name)
            if not (0.0 <= v <= 1.0):
                raise ParameterError(f"{name} {v:g} is outside 0-1; expected a probability from 0 to 1")
        if self.spike_min_s > self.spike_max_s or self.spike_min_s < 0:
            raise ParameterError(f"spike range {self.spike_min_s:g}-{self.spike_max_s:g} s is not an increasing non-negative range")

    @classmethod
    def none(cls) -> LossModel:
        """No loss and no transients: delay follows RTT/2 exactly (for measuring fidelity)."""
        return cls(loss=0.0, burst_loss=0.0, handovers=False)


@dataclass(frozen=True)
class EmulationSchedule:
    """Per-update-step link state: arrays of shape ``(n_steps,)``, step ``update_s`` seconds.

    ``delay_fwd_s`` is client -> server, ``delay_rev_s`` server -> client; ``loss`` is the
    per-packet drop probability (1 in an outage); ``rtt_target_s`` is the routed RTT (NaN in
    an outage), without transients.
    """

    update_s: float
    delay_fwd_s: np.ndarray
    delay_rev_s: np.ndarray
    loss: np.ndarray
    rtt_target_s: np.ndarray
    events_s: np.ndarray = field(default_factory=lambda: np.zeros(0))

    @property
    def n_steps(self) -> int:
        return len(self.loss)

    @property
    def duration_s(self) -> float:
        return self.n_steps * self.update_s

    def index(self, t_s: float | np.ndarray) -> np.ndarray:
        """Step index for offsets ``t_s`` (held at the ends)."""
        return np.clip((np.asarray(t_s) / self.update_s).astype(np.int64), 0, self.n_steps - 1)

    def outage_fraction(self) -> float:
        return float(np.mean(~np.isfinite(self.rtt_target_s))) if self.n_steps else 0.0

    @classmethod
    def from_rtt(
        cls,
        t_s: np.ndarray,
        rtt_s: np.ndarray,
        *,
        duration_s: float | None = None,
        start_unix_s: float = 0.0,
        update_s: float = MAX_UPDATE_S,
        model: LossModel = LossModel(),
        seed: int = 0,
    ) -> EmulationSchedule:
        """Sample a routed RTT series (offsets ``t_s``, held until the next) every ``update_s``.

        >>> s = EmulationSchedule.from_rtt([0.0, 1.0], [0.020, 0.060], duration_s=2.0, model=LossModel.none())
        >>> s.delay_fwd_s[[0, 9, 10, 19]].round(4).tolist()
        [0.01, 0.01, 0.03, 0.03]
        """
        t_s = np.asarray(t_s, dtype=float)
        rtt_s = np.asarray(rtt_s, dtype=float)
        if t_s.shape != rtt_s.shape or t_s.ndim != 1 or len(t_s) == 0:
            raise ParameterError(f"t_s and rtt_s must be equal-length 1-D series; got shapes {t_s.shape} and {rtt_s.shape}")
        if not (0 < update_s <= MAX_UPDATE_S):
            raise ParameterError(f"update step {update_s:g} s is outside (0, {MAX_UPDATE_S:g}] s")
        if duration_s is None:
            duration_s = float(t_s[-1] + (t_s[-1] - t_s[-2] if len(t_s) > 1 else update_s))
        if duration_s <= 0:
            raise ParameterError(f"duration {duration_s:g} s is not positive; expected a duration above 0")
        n = max(1, int(round(duration_s / update_s)))
        grid = np.arange(n) * update_s
        idx = np.clip(np.searchsorted(t_s, grid + 1e-9, side="right") - 1, 0, len(t_s) - 1)
        rtt = rtt_s[idx]
        outage = ~np.isfinite(rtt)
        # in an outage the delay holds its last value (packets are dropped anyway)
        base = np.where(outage, np.nan, rtt / 2.0)
        if outage.all():
            base[:] = 0.0
        else:
            ok = np.flatnonzero(~outage)
            fill = np.maximum.accumulate(np.where(~outage, np.arange(n), -1))
            fill[fill < 0] = ok[0]
            base = base[fill]
        loss = np.where(outage, 1.0, model.loss)
        extra = np.zeros(n)
        events = np.zeros(0)
        if model.handovers:
            rng = np.random.default_rng(seed)
            events = reconfiguration_offsets_s(start_unix_s, n * update_s)
            for ev in events:
                spike = rng.uniform(model.spike_min_s, model.spike_max_s)
                i0 = int(np.floor(ev / update_s + 1e-9))
                # the spike is on the round trip: half of it in each direction
                extra[i0:i0 + max(1, int(round(model.spike_s / update_s)))] += spike / 2
                sel = slice(i0, i0 + max(1, int(round(model.burst_s / update_s))))
                loss[sel] = np.maximum(loss[sel], model.burst_loss)
        fwd = base + extra
        return cls(update_s, fwd, fwd.copy(), loss, rtt, events)


class Dropper:
    """The seeded per-packet loss decision, shared by every backend.

    >>> s = EmulationSchedule.from_rtt([0.0], [0.02], duration_s=1.0, model=LossModel(loss=0.0, handovers=False))
    >>> Dropper(s, seed=1).drop(0.5)
    False
    """

    def __init__(self, schedule: EmulationSchedule, seed: int = 0):
        self._loss = schedule.loss.tolist()
        self._step = schedule.update_s
        self._n = schedule.n_steps
        self._random = random.Random(seed).random

    def drop(self, t_s: float) -> bool:
        i = int(t_s / self._step)
        p = self._loss[i if 0 <= i < self._n else (0 if i < 0 else self._n - 1)]
        return p > 0.0 and self._random() < p
