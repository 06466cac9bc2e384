"""What ping shows: the round trip a user measures, on top of the propagation time.

Routing gives the propagation round trip (``rtt_s``: light along the path and back). A
ping adds what happens at each node (docs/latency.md gives every figure and its source):

* **Access**, at each terminal end. Starlink's radio is framed: 750 frames a second
  (1.33 ms, Garcia et al., LEO-NET 2023). A packet waits for its downlink frame (on
  average half a frame); on the uplink the terminal first asks for a grant and sends in
  a later frame (assumption: the request, the grant and the send take ``grant_frames`` =
  2 frames after the wait for the next frame; the satellite schedules it).
* **Processing** at every satellite the packet crosses (``per_satellite_s``) and on the
  ground: the gateway, Starlink's backbone to the PoP and the PoP itself
  (``ground_s``, once per round trip for traffic that lands). Fitted.
* **Queueing** in the busy hour, per 15 s window: a lognormal delay of median
  ``queue_median_s`` and shape ``queue_sigma`` (fitted to the spread between Starlink's
  20th and 80th percentiles).
* **Reconfiguration spikes**: at each 15 s reconfiguration the RTT jumps by 30-50 ms for
  about 200 ms (docs/design.md; Huston 2024, Michel et al. IMC 2022), which raises a 15 s
  average by ``spike_s * spike_duration_s / interval_s`` (0.5 ms).

``median_ping_s`` is the predicted median idle ping at a step (``ping_ms`` in every table);
``window_samples`` draws 15 s window averages for percentiles ("as Starlink reports it":
router to internet, averaged over 15 s windows). The fitted numbers come from
``tools/calibrate_latency.py`` (it rewrites the block marked below), on Starlink's
published figures for half of the countries and the US states; its report is
``docs/latency-calibration.md``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

import numpy as np

from leosim.core.time import RECONFIGURATION_INTERVAL_S
from leosim.errors import ParameterError

#: Starlink's MAC frame: 750 a second (Garcia et al., LEO-NET 2023: 1.33 ms between bursts).
FRAME_S = 1.0 / 750.0

# --- fitted: rewritten by tools/calibrate_latency.py (do not edit by hand) ---
FITTED = {
    "ground_s": 0.00494453,
    "per_satellite_s": 0.00179324,
    "queue_median_s": 0.00889874,
    "queue_sigma": 0.504182,
}
FITTED_ON = "fitted 2026-12-02 by tools/calibrate_latency.py on Starlink's December 2025 figures for 67 countries and mid-2025 figures for 51 US states (10 users each, 1h at 15 s); see docs/latency-calibration.md"
# --- end fitted ---


@dataclass(frozen=True)
class LatencyModel:
    """Ping on top of propagation; see the module docstring for every term."""

    frame_s: float = FRAME_S
    grant_frames: float = 2.0
    per_satellite_s: float = FITTED["per_satellite_s"]
    ground_s: float = FITTED["ground_s"]
    queue_median_s: float = FITTED["queue_median_s"]
    queue_sigma: float = FITTED["queue_sigma"]
    spike_s: float = 0.040
    spike_duration_s: float = 0.2
    interval_s: float = RECONFIGURATION_INTERVAL_S

    def __post_init__(self) -> None:
        for f in fields(self):
            v = getattr(self, f.name)
            if not (np.isfinite(v) and v >= 0):
                raise ParameterError(f"latency model {f.name} = {v!r}; expected a finite number >= 0")
        if not self.interval_s > 0:
            raise ParameterError(f"latency model interval_s = {self.interval_s!r}; expected > 0")

    @classmethod
    def from_mapping(cls, values: dict) -> LatencyModel:
        """A model from ``{name: value}`` (unknown names are an error, missing ones default)."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ParameterError(f"unknown latency model parameter(s) {', '.join(unknown)}; expected some of: {', '.join(sorted(known))}")
        return cls(**{k: float(v) for k, v in values.items()})

    def as_dict(self) -> dict[str, float]:
        return asdict(self)

    # ------------------------------------------------------------------ terms
    @property
    def access_s(self) -> float:
        """Median round-trip access delay at one terminal end: half a frame down, half a
        frame to the next uplink frame, then the request-grant frames."""
        return self.frame_s * (0.5 + 0.5 + self.grant_frames)

    @property
    def spike_mean_s(self) -> float:
        """What the reconfiguration spikes add to a 15 s average."""
        return self.spike_s * min(self.spike_duration_s, self.interval_s) / self.interval_s

    def fixed_s(self, sats, gateways, terminals) -> np.ndarray:
        """Everything but propagation and queueing, for paths crossing ``sats`` satellites
        and ``gateways`` gateway sites with ``terminals`` (0, 1 or 2) satellite terminals
        at their ends."""
        sats = np.asarray(sats, dtype=np.float64)
        lands = np.asarray(gateways) > 0
        return (np.asarray(terminals, dtype=np.float64) * self.access_s + sats * self.per_satellite_s
                + np.where(lands, self.ground_s, 0.0) + self.spike_mean_s)

    def median_ping_s(self, rtt_s, sats, gateways, terminals) -> np.ndarray:
        """Predicted median idle ping (s) at a step: propagation, the fixed terms and the
        median queueing delay; NaN where ``rtt_s`` is NaN (no route)."""
        rtt = np.asarray(rtt_s, dtype=np.float64)
        return rtt + self.fixed_s(sats, gateways, terminals) + self.queue_median_s

    def window_samples(self, rtt_s, sats, gateways, terminals, *, rng: np.random.Generator | None = None,
                       quantiles: np.ndarray | None = None) -> np.ndarray:
        """15 s window averages: the median ping with the window's queueing delay drawn
        from the lognormal (seeded ``rng``), or at the given ``quantiles`` (0-1, same
        shape as ``rtt_s``) for deterministic percentiles."""
        base = self.median_ping_s(rtt_s, sats, gateways, terminals) - self.queue_median_s
        shape = np.shape(base)
        if quantiles is None:
            rng = rng or np.random.default_rng(0)
            z = rng.standard_normal(shape)
        else:
            from scipy.special import ndtri

            z = ndtri(np.clip(np.asarray(quantiles, dtype=np.float64), 1e-9, 1 - 1e-9))
        return base + self.queue_median_s * np.exp(self.queue_sigma * z)


def starlink_percentiles(samples_s) -> tuple[float, float, float]:
    """(p20, p50, p80) in **Starlink's convention**: percentiles of performance, worst first,
    so p20 is the latency 80 % of the samples beat (the highest of the three) and p80 the
    lowest. NaN (no route) is left out; all NaN gives NaNs.

    >>> starlink_percentiles([0.010, 0.020, 0.030, 0.040, 0.050])
    (0.042, 0.03, 0.018)
    """
    x = np.asarray(samples_s, dtype=np.float64).ravel()
    x = x[np.isfinite(x)]
    if len(x) == 0:
        return (float("nan"),) * 3
    hi, mid, lo = np.percentile(x, [80, 50, 20])
    return float(round(hi, 12)), float(round(mid, 12)), float(round(lo, 12))


__all__ = ["FITTED", "FITTED_ON", "FRAME_S", "LatencyModel", "starlink_percentiles"]
