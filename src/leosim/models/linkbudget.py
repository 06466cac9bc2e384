"""Radio link budgets: path loss, antennas, noise, C/N0, and the DVB-S2X MODCOD that fits.

Core maths: pure functions over numpy arrays and small immutable objects; no I/O. SI
inside (m, Hz, W, K, rad); decibel quantities say so in their names (``_db``, ``_dbw``,
``_dbi``, ``_dbk``, ``_dbhz``). Scalars and arrays take the same code path.

A link is described by a :class:`LinkBudget` (transmitter EIRP, receiver gain and noise,
channel, MODCOD table); :meth:`LinkBudget.evaluate` takes the geometry and the
atmospheric loss of any number of links at once and returns a :class:`LinkResult`.
Atmospheric losses come from ITU-R's models through the ``itur`` package (the
``capacity`` extra), cached per H3 cell and elevation knot by :class:`Atmosphere`.

Two presets hold leosim's defaults (``docs/design.md``), each number with a source
or marked as an assumption: :meth:`LinkBudget.ku_user_downlink` (satellite to terminal)
and :meth:`LinkBudget.ka_gateway_uplink` (gateway to satellite, the forward feeder link).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import cached_property

import numpy as np

from leosim.core.geodesy import SPEED_OF_LIGHT_M_S
from leosim.core.radio import BOLTZMANN_DBW_PER_K_HZ, T0_K, free_space_loss_db
from leosim.errors import ParameterError, require

__all__ = [
    "DVB_S2X_MODCODS",
    "Atmosphere",
    "LinkBudget",
    "LinkResult",
    "ModCod",
    "ModCodTable",
    "PfdMask",
    "aperture_gain_dbi",
    "off_nadir_rad",
    "receiver_noise_temperature_k",
    "scan_loss_db",
    "sky_noise_temperature_k",
    "spreading_loss_db",
]

#: Mean radiating temperature of the atmosphere for sky noise, ITU-R P.618-13 section 3
#: (T_mr = 275 K when no local value is known), and the cosmic background, K.
ATMOSPHERE_MEDIUM_K = 275.0
COSMIC_BACKGROUND_K = 2.7


def _f64(x) -> np.ndarray:
    return np.asarray(x, dtype=np.float64)


# --------------------------------------------------------------------- propagation

def spreading_loss_db(range_m) -> np.ndarray:
    """10 log10(4 pi d^2) (dB m^2): EIRP minus this is the power flux density at ``range_m``.

    >>> round(float(spreading_loss_db(1e3)), 3)
    70.992
    """
    r = _f64(range_m)
    return 10.0 * np.log10(4.0 * np.pi * r * r)


def off_nadir_rad(sin_elevation, site_radius_m, satellite_radius_m) -> np.ndarray:
    """Angle (rad) at the satellite between nadir and the line to a site seen at that elevation.

    Law of sines in the Earth-centre/site/satellite triangle (spherical Earth through the
    site): ``sin(eta) = r_site cos(el) / r_sat``.

    >>> round(float(np.degrees(off_nadir_rad(0.0, 6371e3, 6921e3))), 2)  # horizon from 550 km
    67.0
    >>> float(off_nadir_rad(1.0, 6371e3, 6921e3))                         # zenith: nadir
    0.0
    """
    s = np.clip(_f64(sin_elevation), -1.0, 1.0)
    cos_el = np.sqrt(1.0 - s * s)
    return np.arcsin(np.clip(_f64(site_radius_m) * cos_el / _f64(satellite_radius_m), -1.0, 1.0))


# ------------------------------------------------------------------------ antennas
def aperture_gain_dbi(diameter_m, frequency_hz, efficiency=0.6) -> np.ndarray:
    """Boresight gain (dBi) of a circular aperture: efficiency x (pi D f / c)^2.

    The default efficiency, 0.6, is an assumption. A 48 cm aperture needs 0.62 to give
    35.0 dBi at 14.25 GHz, the ~35 dBi of Starlink's terminal in SpaceX's FCC RF-exposure
    analysis (``docs/design.md``); the terminal preset uses that.

    >>> round(float(aperture_gain_dbi(0.48, 14.25e9, 0.62)), 1)
    35.0
    """
    x = np.pi * _f64(diameter_m) * _f64(frequency_hz) / SPEED_OF_LIGHT_M_S
    return 10.0 * np.log10(_f64(efficiency) * x * x)


def scan_loss_db(off_boresight_rad, exponent) -> np.ndarray:
    """Gain lost (dB, >= 0) by a flat phased array steered ``off_boresight_rad`` away from its normal.

    The array's projected aperture and its elements' patterns shrink the gain as
    cos(theta)^n: ``-10 n log10(cos theta)``. n = 1 is the projected aperture alone;
    measured patch-element arrays fall between n = 1.2 and 1.5 (Mailloux, *Phased Array
    Antenna Handbook*, 3rd ed., ch. 2). Beyond 90 deg the loss is infinite. ``exponent``
    0 means no scan loss (a mechanically steered dish).

    >>> scan_loss_db(0.0, 1.2).item(), round(float(scan_loss_db(np.radians(60.0), 1.0)), 2)
    (0.0, 3.01)
    """
    c = np.cos(_f64(off_boresight_rad))
    n = _f64(exponent)
    with np.errstate(divide="ignore", invalid="ignore"):
        loss = np.where(c > 0.0, -10.0 * n * np.log10(np.where(c > 0.0, c, 1.0)), np.inf)
    return np.where(n == 0.0, 0.0, loss) + 0.0


# --------------------------------------------------------------------------- noise
def receiver_noise_temperature_k(noise_figure_db) -> np.ndarray:
    """Noise temperature (K) of a receiver with this noise figure: T0 (10^(NF/10) - 1), T0 = 290 K.

    >>> round(float(receiver_noise_temperature_k(3.0)), 1)
    288.6
    """
    return T0_K * (10.0 ** (_f64(noise_figure_db) / 10.0) - 1.0)


def sky_noise_temperature_k(attenuation_db, medium_k: float = ATMOSPHERE_MEDIUM_K) -> np.ndarray:
    """Sky brightness temperature (K) seen through ``attenuation_db`` of atmosphere.

    ITU-R P.618-13 eq. (61): ``T_sky = T_mr (1 - 10^(-A/10)) + 2.7 x 10^(-A/10)``: what
    absorbs also radiates, so rain both attenuates the carrier and raises the noise.

    >>> round(float(sky_noise_temperature_k(0.0)), 1), round(float(sky_noise_temperature_k(3.0)), 1)
    (2.7, 138.5)
    """
    g = 10.0 ** (-_f64(attenuation_db) / 10.0)
    return medium_k * (1.0 - g) + COSMIC_BACKGROUND_K * g


# --------------------------------------------------------------------- regulation
@dataclass(frozen=True)
class PfdMask:
    """A power-flux-density limit at the Earth's surface that depends on the arrival angle.

    ``low_dbw`` below ``low_deg`` elevation, ``high_dbw`` above ``high_deg``, linear in
    between; in dB(W/m^2) per ``reference_bandwidth_hz``. :data:`ITU_RR_ARTICLE_21_KU` is
    the limit for 10.7-11.7 GHz (Radio Regulations Article 21, Table 21-4: -150, -150 +
    (el - 5)/2 and -140 dB(W/m^2) in any 4 kHz, for 0-5, 5-25 and 25-90 deg). A satellite
    that would exceed it backs its power off, so near zenith the downlink is limited by the
    rule, not by its amplifier.
    """

    low_deg: float = 5.0
    high_deg: float = 25.0
    low_dbw: float = -150.0
    high_dbw: float = -140.0
    reference_bandwidth_hz: float = 4e3

    def limit_dbw_m2(self, elevation_rad, bandwidth_hz) -> np.ndarray:
        """Limit on the flux density (dB(W/m^2)) over ``bandwidth_hz`` at each elevation.

        >>> round(float(ITU_RR_ARTICLE_21_KU.limit_dbw_m2(np.radians(90.0), 4e3)), 1)
        -140.0
        >>> round(float(ITU_RR_ARTICLE_21_KU.limit_dbw_m2(np.radians(15.0), 4e3)), 1)
        -145.0
        """
        el = np.degrees(_f64(elevation_rad))
        frac = np.clip((el - self.low_deg) / (self.high_deg - self.low_deg), 0.0, 1.0)
        per_ref = self.low_dbw + frac * (self.high_dbw - self.low_dbw)
        return per_ref + 10.0 * np.log10(_f64(bandwidth_hz) / self.reference_bandwidth_hz)


ITU_RR_ARTICLE_21_KU = PfdMask()


# -------------------------------------------------------------------------- MODCOD
@dataclass(frozen=True)
class ModCod:
    """One modulation and coding: its name, the ideal Es/N0 (dB) it needs, bits per symbol."""

    name: str
    esn0_db: float
    efficiency: float


def _m(rows: str) -> tuple[ModCod, ...]:
    out = []
    for line in rows.strip().splitlines():
        name, eff, esn0 = line.rsplit(None, 2)
        out.append(ModCod(name.strip(), float(esn0), float(eff)))
    return tuple(out)


#: DVB-S2X MODCODs, normal FECFRAME (64,800 bits), no pilots: the ideal Es/N0 for
#: quasi-error-free operation (PER 1e-5) in AWGN and the spectral efficiency in bits per
#: symbol. DVB-S2X receivers must also decode every DVB-S2 MODCOD, so the table is ETSI
#: EN 302 307-1 V1.4.1 Table 13 (DVB-S2) followed by ETSI EN 302 307-2 V1.1.1 Table 20a
#: (the MODCODs DVB-S2X adds; the very-low-SNR ones of Table 20c are left out). Values
#: as printed in the standards.
DVB_S2X_MODCODS: tuple[ModCod, ...] = _m("""
QPSK 1/4        0.490243 -2.35
QPSK 1/3        0.656448 -1.24
QPSK 2/5        0.789412 -0.30
QPSK 1/2        0.988858  1.00
QPSK 3/5        1.188304  2.23
QPSK 2/3        1.322253  3.10
QPSK 3/4        1.487473  4.03
QPSK 4/5        1.587196  4.68
QPSK 5/6        1.654663  5.18
QPSK 8/9        1.766451  6.20
QPSK 9/10       1.788612  6.42
8PSK 3/5        1.779991  5.50
8PSK 2/3        1.980636  6.62
8PSK 3/4        2.228124  7.91
8PSK 5/6        2.478562  9.35
8PSK 8/9        2.646012 10.69
8PSK 9/10       2.679207 10.98
16APSK 2/3      2.637201  8.97
16APSK 3/4      2.966728 10.21
16APSK 4/5      3.165623 11.03
16APSK 5/6      3.300184 11.61
16APSK 8/9      3.523143 12.89
16APSK 9/10     3.567342 13.13
32APSK 3/4      3.703295 12.73
32APSK 4/5      3.951571 13.64
32APSK 5/6      4.119540 14.28
32APSK 8/9      4.397854 15.69
32APSK 9/10     4.453027 16.05
QPSK 13/45      0.567805 -2.03
QPSK 9/20       0.889135  0.22
QPSK 11/20      1.088581  1.45
8APSK 5/9-L     1.647211  4.73
8APSK 26/45-L   1.713601  5.13
8PSK 23/36      1.896173  6.12
8PSK 25/36      2.062148  7.02
8PSK 13/18      2.145136  7.49
16APSK 1/2-L    1.972253  5.97
16APSK 8/15-L   2.104850  6.55
16APSK 5/9-L    2.193247  6.84
16APSK 26/45    2.281645  7.51
16APSK 3/5      2.370043  7.80
16APSK 3/5-L    2.370043  7.41
16APSK 28/45    2.458441  8.10
16APSK 23/36    2.524739  8.38
16APSK 2/3-L    2.635236  8.43
16APSK 25/36    2.745734  9.27
16APSK 13/18    2.856231  9.71
16APSK 7/9      3.077225 10.65
16APSK 77/90    3.386618 11.99
32APSK 2/3-L    3.289502 11.10
32APSK 32/45    3.510192 11.75
32APSK 11/15    3.620536 12.17
32APSK 7/9      3.841226 13.05
64APSK 32/45-L  4.206428 13.98
64APSK 11/15    4.338659 14.81
64APSK 7/9      4.603122 15.47
64APSK 4/5      4.735354 15.87
64APSK 5/6      4.933701 16.55
128APSK 3/4     5.163248 17.73
128APSK 7/9     5.355556 18.53
256APSK 29/45-L 5.065690 16.98
256APSK 2/3-L   5.241514 17.24
256APSK 31/45-L 5.417338 18.10
256APSK 32/45   5.593162 18.59
256APSK 11/15-L 5.768987 18.84
256APSK 3/4     5.900855 19.57
""")

#: Aperture efficiency of the user terminal's 48 cm array: 0.62 makes its gain 35.0 dBi
#: at 14.25 GHz, the ~35 dBi in SpaceX's FCC RF-exposure analysis (docs/design.md).
TERMINAL_APERTURE_EFFICIENCY = 0.62
TERMINAL_DIAMETER_M = 0.48

#: Implementation margin (dB) added to every ideal threshold: real demodulators, phase
#: noise, amplifier non-linearity and pilots cost ~0.5-1.5 dB against the AWGN curves
#: of the standard; 1 dB is an assumption.
DEFAULT_IMPLEMENTATION_MARGIN_DB = 1.0


class ModCodTable:
    """Adaptive coding and modulation: the most efficient MODCOD whose threshold is met.

    A MODCOD is usable when ``Es/N0 >= its ideal Es/N0 + implementation_margin_db``.
    Only the upper envelope matters (a MODCOD that needs more Es/N0 than another for less
    efficiency is never chosen), so the lookup is one binary search.

    >>> t = ModCodTable()
    >>> t.efficiency([-10.0, 2.0, 20.57]).round(6).tolist()  # below the table, QPSK 1/2 at 1.0 + 1 dB, the top
    [0.0, 0.988858, 5.900855]
    >>> t.name(2.0)
    'QPSK 1/2'
    """

    def __init__(
        self,
        modcods: tuple[ModCod, ...] = DVB_S2X_MODCODS,
        implementation_margin_db: float = DEFAULT_IMPLEMENTATION_MARGIN_DB,
    ) -> None:
        if not modcods:
            raise ParameterError("a MODCOD table needs at least one MODCOD; got none")
        if not np.isfinite(implementation_margin_db):
            raise ParameterError(f"implementation margin {implementation_margin_db!r} dB is not finite; expected dB")
        self.modcods = tuple(sorted(modcods, key=lambda m: (m.esn0_db, -m.efficiency)))
        self.implementation_margin_db = float(implementation_margin_db)
        best = -np.inf
        keep = []
        for i, m in enumerate(self.modcods):
            if m.efficiency > best:
                keep.append(i)
                best = m.efficiency
        self._envelope = np.array(keep)
        self.thresholds_db = np.array([self.modcods[i].esn0_db for i in keep]) + self.implementation_margin_db
        self.efficiencies = np.array([self.modcods[i].efficiency for i in keep])

    def __repr__(self) -> str:
        return f"ModCodTable({len(self.modcods)} MODCODs, margin {self.implementation_margin_db:g} dB)"

    def index(self, esn0_db) -> np.ndarray:
        """Position in the envelope of the MODCOD chosen at each Es/N0; -1 when none closes."""
        return np.searchsorted(self.thresholds_db, _f64(esn0_db), side="right") - 1

    def efficiency(self, esn0_db) -> np.ndarray:
        """Bits per symbol at each Es/N0 (dB); 0 below the first threshold, NaN for NaN."""
        e = _f64(esn0_db)
        i = self.index(e)
        out = np.where(i >= 0, self.efficiencies[np.maximum(i, 0)], 0.0)
        return np.where(np.isnan(e), np.nan, out)

    def name(self, esn0_db: float) -> str | None:
        """Name of the MODCOD chosen at one Es/N0, or None when the link does not close."""
        i = int(self.index(float(esn0_db)))
        return None if i < 0 else self.modcods[self._envelope[i]].name


# ---------------------------------------------------------------------- the link
@dataclass(frozen=True)
class LinkResult:
    """A link budget evaluated for many links; every field has the inputs' shape.

    ``capacity_bps`` is what the link carries: ``channels`` x symbol rate x bits per
    symbol of the MODCOD chosen (0 when the link does not close).
    """

    eirp_dbw: np.ndarray
    path_loss_db: np.ndarray
    atmospheric_loss_db: np.ndarray
    rx_gain_dbi: np.ndarray
    system_noise_k: np.ndarray
    cn0_dbhz: np.ndarray
    cn_db: np.ndarray
    esn0_db: np.ndarray
    efficiency: np.ndarray
    capacity_bps: np.ndarray


@dataclass(frozen=True)
class LinkBudget:
    """One kind of radio link, transmitter to receiver, per channel.

    Transmitter: ``eirp_dbw`` per channel at boresight, lowered by the scan loss of a
    phased array (``tx_scan_exponent``, 0 for a steered dish) and, when ``pfd_mask`` is
    set, capped so that the flux density at the ground stays within the mask (free space,
    as the Radio Regulations count it). Receiver: ``rx_gain_dbi`` at boresight minus its
    own scan loss; system noise ``T_sky(A) + rx_antenna_temperature_k + T_receiver(NF)``,
    where the sky term applies to receivers that look up (``rx_sees_sky``). The channel:
    ``channel_bandwidth_hz`` per channel, ``channels`` of them, symbol rate
    ``bandwidth / (1 + rolloff)``. ``c_over_i_db``, when set, adds interference as
    ``Es/(N0+I0)``. ``other_losses_db`` covers pointing and polarisation.
    """

    name: str
    frequency_hz: float
    channel_bandwidth_hz: float
    eirp_dbw: float
    rx_gain_dbi: float
    rx_noise_figure_db: float
    rx_antenna_temperature_k: float
    channels: int = 1
    tx_scan_exponent: float = 0.0
    rx_scan_exponent: float = 0.0
    rx_sees_sky: bool = True
    pfd_mask: PfdMask | None = None
    rolloff: float = 0.1
    other_losses_db: float = 0.0
    c_over_i_db: float | None = None
    modcods: ModCodTable = field(default_factory=ModCodTable)

    def __post_init__(self) -> None:
        for key in ("frequency_hz", "channel_bandwidth_hz"):
            v = getattr(self, key)
            if not (np.isfinite(v) and v > 0):
                raise ParameterError(f"{self.name}: {key} {v!r} is not positive; expected a value > 0 in Hz")
        if isinstance(self.channels, bool) or not isinstance(self.channels, int | np.integer) or self.channels < 1:
            raise ParameterError(f"{self.name}: channels {self.channels!r} is not a whole number >= 1")
        if not (0.0 <= self.rolloff <= 1.0):
            raise ParameterError(f"{self.name}: rolloff {self.rolloff!r} is outside 0-1; expected e.g. 0.05, 0.1, 0.2, 0.35")
        for key in ("tx_scan_exponent", "rx_scan_exponent", "rx_antenna_temperature_k"):
            v = getattr(self, key)
            if not (np.isfinite(v) and v >= 0):
                raise ParameterError(f"{self.name}: {key} {v!r} is negative or not finite; expected a value >= 0")

    def with_(self, **changes) -> LinkBudget:
        """A copy with some parameters changed (``implementation_margin_db`` rebuilds the MODCOD table)."""
        margin = changes.pop("implementation_margin_db", None)
        if margin is not None:
            changes["modcods"] = ModCodTable(self.modcods.modcods, margin)
        return replace(self, **changes)

    @cached_property
    def symbol_rate_hz(self) -> float:
        return self.channel_bandwidth_hz / (1.0 + self.rolloff)

    @property
    def max_capacity_bps(self) -> float:
        """Capacity at the top MODCOD: the most this link can ever carry."""
        return float(self.channels * self.symbol_rate_hz * self.modcods.efficiencies[-1])

    def evaluate(
        self,
        range_m,
        *,
        elevation_rad=np.pi / 2,
        tx_off_axis_rad=0.0,
        rx_off_axis_rad=0.0,
        atmospheric_loss_db=0.0,
    ) -> LinkResult:
        """The budget of each link: geometry in, C/N0, Es/N0, MODCOD efficiency and capacity out.

        ``elevation_rad`` is the elevation of the satellite seen from the ground end (for
        the PFD mask); the off-axis angles are from each antenna's boresight (for scan
        loss). All inputs broadcast together.

        >>> lb = LinkBudget.ku_user_downlink()
        >>> r = lb.evaluate(550e3)                     # zenith, clear sky
        >>> round(float(r.eirp_dbw), 1), r.esn0_db.round(1).item(), round(float(r.capacity_bps) / 1e9, 2)
        (33.6, 21.7, 1.29)
        """
        rng = _f64(range_m)
        el = _f64(elevation_rad)
        atm = _f64(atmospheric_loss_db)
        eirp = self.eirp_dbw - scan_loss_db(tx_off_axis_rad, self.tx_scan_exponent)
        if self.pfd_mask is not None:
            cap = self.pfd_mask.limit_dbw_m2(el, self.channel_bandwidth_hz) + spreading_loss_db(rng)
            eirp = np.minimum(eirp, cap)
        fspl = free_space_loss_db(rng, self.frequency_hz)
        g_rx = self.rx_gain_dbi - scan_loss_db(rx_off_axis_rad, self.rx_scan_exponent)
        t_sys = self.rx_antenna_temperature_k + receiver_noise_temperature_k(self.rx_noise_figure_db)
        if self.rx_sees_sky:
            t_sys = t_sys + sky_noise_temperature_k(atm)
        cn0 = eirp - fspl - atm - self.other_losses_db + g_rx - 10.0 * np.log10(t_sys) - BOLTZMANN_DBW_PER_K_HZ
        esn0 = cn0 - 10.0 * np.log10(self.symbol_rate_hz)
        if self.c_over_i_db is not None:
            esn0 = -10.0 * np.log10(10.0 ** (-esn0 / 10.0) + 10.0 ** (-self.c_over_i_db / 10.0))
        eff = self.modcods.efficiency(esn0)
        shape = np.broadcast_shapes(rng.shape, el.shape, atm.shape, np.shape(tx_off_axis_rad), np.shape(rx_off_axis_rad))
        return LinkResult(
            eirp_dbw=np.broadcast_to(eirp, shape),
            path_loss_db=np.broadcast_to(fspl, shape),
            atmospheric_loss_db=np.broadcast_to(atm, shape),
            rx_gain_dbi=np.broadcast_to(g_rx, shape),
            system_noise_k=np.broadcast_to(t_sys, shape),
            cn0_dbhz=np.broadcast_to(cn0, shape),
            cn_db=np.broadcast_to(cn0 - 10.0 * np.log10(self.channel_bandwidth_hz), shape),
            esn0_db=np.broadcast_to(esn0, shape),
            efficiency=np.broadcast_to(eff, shape),
            capacity_bps=np.broadcast_to(np.nan_to_num(eff) * self.symbol_rate_hz * self.channels, shape),
        )

    # ----------------------------------------------------------------- presets
    @classmethod
    def ku_user_downlink(cls, **changes) -> LinkBudget:
        """Satellite to user terminal, Ku band: one 240 MHz channel per spot beam.

        ====================  ==============  ===========================================
        frequency             11.7 GHz        centre of 10.7-12.7 GHz (FCC; docs/design.md)
        channel               240 MHz         8 x 240 MHz channels (FCC; Humphreys et al. 2023)
        EIRP per beam         42 dBW          assumption: ~4 W into a ~36 dBi spot beam
        satellite scan        cos^1.2         assumption (flat array facing nadir)
        PFD mask              RR Art. 21      Table 21-4, 10.7-11.7 GHz (backs power off near zenith)
        terminal gain         33.3 dBi        48 cm aperture at 11.7 GHz, efficiency 0.62, which
                                              gives 35.0 dBi at 14.25 GHz (FCC; docs/design.md)
        terminal scan         cos^1.2         assumption (flat array facing zenith)
        noise figure          1.5 dB          assumption (Ku LNA and array losses)
        antenna temperature   30 K            assumption (ground pick-up), plus sky noise
        roll-off              0.1             assumption (DVB-S2X offers 0.05-0.35)
        MODCOD                DVB-S2X         ETSI EN 302 307-1/-2, 1 dB margin (assumption)
        ====================  ==============  ===========================================
        """
        f = 11.7e9
        base = cls(
            name="Ku user downlink",
            frequency_hz=f,
            channel_bandwidth_hz=240e6,
            eirp_dbw=42.0,
            tx_scan_exponent=1.2,
            pfd_mask=ITU_RR_ARTICLE_21_KU,
            rx_gain_dbi=float(aperture_gain_dbi(0.48, f, TERMINAL_APERTURE_EFFICIENCY)),
            rx_scan_exponent=1.2,
            rx_noise_figure_db=1.5,
            rx_antenna_temperature_k=30.0,
            rx_sees_sky=True,
        )
        return base.with_(**changes) if changes else base

    @classmethod
    def ka_gateway_uplink(cls, **changes) -> LinkBudget:
        """Gateway to satellite, Ka band (the forward feeder link), per gateway antenna.

        ====================  ==============  ===========================================
        frequency             28.75 GHz       centre of 27.5-30.0 GHz (FCC; docs/design.md)
        carriers              5 x 480 MHz     480 MHz carriers (FCC; docs/design.md); 5 fill the
                                              2.5 GHz band once (assumption: one polarisation)
        EIRP per carrier      60.5 dBW        FCC (docs/design.md), from a steered dish (no scan loss)
        satellite gain        36.9 dBi        assumption: a 0.3 m steered dish, efficiency 0.6
        satellite scan        none            steered dish
        noise figure          2.5 dB          assumption
        antenna temperature   290 K           the satellite looks at the Earth
        roll-off              0.1             assumption
        MODCOD                DVB-S2X         ETSI EN 302 307-1/-2, 1 dB margin (assumption)
        ====================  ==============  ===========================================
        """
        f = 28.75e9
        base = cls(
            name="Ka gateway uplink",
            frequency_hz=f,
            channel_bandwidth_hz=480e6,
            channels=5,
            eirp_dbw=60.5,
            rx_gain_dbi=float(aperture_gain_dbi(0.3, f, 0.6)),
            rx_noise_figure_db=2.5,
            rx_antenna_temperature_k=290.0,
            rx_sees_sky=False,
        )
        return base.with_(**changes) if changes else base


# ------------------------------------------------------------------- atmosphere
def _itur():
    """``itur``, imported without the global numpy error-state change it makes on import."""
    state = np.geterr()
    try:
        return require("itur", "capacity")
    finally:
        np.seterr(**state)


def _h3():
    return require("h3", "capacity")


#: Elevations (deg) at which ITU-R losses are computed per cell; losses at other
#: elevations are interpolated linearly in cosec(el) (and held constant below 10 deg,
#: where the slant-path formulas change). The path through the atmosphere grows as
#: cosec(el), so 5 deg knots keep the interpolation error within ~1 % of the loss up to
#: 85 deg; near zenith P.618's rain-path reduction changes fast (as the square root of
#: cos(el)), hence the extra knots there, which keep it within 3 % (tests/test_linkbudget.py).
DEFAULT_ELEVATION_KNOTS_DEG = (*(float(e) for e in range(10, 86, 5)), 87.5, 89.0, 89.75, 90.0)


class Atmosphere:
    """ITU-R slant-path losses at one frequency and exceedance probability, cached per H3 cell.

    Gases (P.676), clouds (P.840), rain (P.618 with P.837/P.838/P.839) and scintillation
    (P.618) at the site's location, combined as in P.618-13 section 2.5
    (``A = A_gas + sqrt((A_rain + A_cloud)^2 + A_scint^2)``), through ``itur``'s
    ``atmospheric_attenuation_slant_path``. Polarisation is circular (tilt 45 deg, an
    assumption for Starlink's links). ``exceedance_pct`` is the percentage of an
    average year the loss is exceeded (0.001-50; rain models hold to 5 %): 1 is a
    typical busy hour, 0.1 or 0.01 a heavy rain fade. Losses are computed once per H3
    cell (``resolution``) at each elevation knot, for the cell's centre, and interpolated
    in elevation; rain and climate maps are far coarser than a resolution-5 cell.

    Needs the ``capacity`` extra (``itur``, ``h3``).
    """

    def __init__(
        self,
        frequency_hz: float,
        exceedance_pct: float = 1.0,
        *,
        antenna_diameter_m: float = TERMINAL_DIAMETER_M,
        antenna_efficiency: float = TERMINAL_APERTURE_EFFICIENCY,
        resolution: int = 5,
        include_rain: bool = True,
        polarization_tilt_deg: float = 45.0,
        elevation_knots_deg: tuple[float, ...] = DEFAULT_ELEVATION_KNOTS_DEG,
    ) -> None:
        if not (np.isfinite(exceedance_pct) and 0.001 <= exceedance_pct <= 50.0):
            raise ParameterError(
                f"rain exceedance {exceedance_pct!r} % is outside 0.001-50 %; expected the percentage of "
                "an average year the loss is exceeded, e.g. 1 (typical), 0.1 or 0.01 (heavy rain)"
            )
        if include_rain and exceedance_pct > 5.0:
            raise ParameterError(
                f"rain exceedance {exceedance_pct!r} % is above 5 %, where ITU-R P.618's rain model does not "
                "apply; expected 0.001-5 % (or turn rain off)"
            )
        _check_resolution(resolution)
        self.frequency_hz = float(frequency_hz)
        self.exceedance_pct = float(exceedance_pct)
        self.antenna_diameter_m = float(antenna_diameter_m)
        self.antenna_efficiency = float(antenna_efficiency)
        self.resolution = int(resolution)
        self.include_rain = bool(include_rain)
        self.polarization_tilt_deg = float(polarization_tilt_deg)
        self.knots_deg = np.asarray(sorted(elevation_knots_deg), dtype=np.float64)
        self._cache: dict[int, np.ndarray] = {}
        _itur()  # fail early, with the install hint, when the extra is missing
        _h3()

    def __repr__(self) -> str:
        return (f"Atmosphere({self.frequency_hz / 1e9:g} GHz, p={self.exceedance_pct:g} %, "
                f"{len(self._cache)} cells cached)")

    def cells(self, latitude_deg, longitude_deg) -> np.ndarray:
        """H3 cell (int64) of each point, at this object's resolution."""
        from h3.api import basic_int

        lat = np.atleast_1d(_f64(latitude_deg))
        lon = np.atleast_1d(_f64(longitude_deg))
        to_cell = basic_int.latlng_to_cell
        r = self.resolution
        return np.fromiter((to_cell(a, b, r) for a, b in zip(lat.tolist(), lon.tolist())), dtype=np.int64, count=len(lat))

    def components_db(self, latitude_deg, longitude_deg, elevation_deg, site_altitude_km=None) -> dict[str, np.ndarray]:
        """Gas, cloud, rain, scintillation and total loss (dB) at points, straight from ``itur``.

        ``site_altitude_km`` above sea level defaults to ITU-R P.1511's topography.
        """
        itur = _itur()
        import warnings

        lat, lon, el = np.broadcast_arrays(_f64(latitude_deg), _f64(longitude_deg), _f64(elevation_deg))
        shape = lat.shape
        lat, lon, el = lat.ravel(), lon.ravel(), el.ravel()
        hs = None if site_altitude_km is None else np.broadcast_to(_f64(site_altitude_km), shape).ravel()
        with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            warnings.simplefilter("ignore", RuntimeWarning)
            parts = itur.atmospheric_attenuation_slant_path(
                lat, lon, self.frequency_hz / 1e9, el, self.exceedance_pct, self.antenna_diameter_m, hs=hs,
                eta=self.antenna_efficiency, tau=self.polarization_tilt_deg, include_rain=self.include_rain,
                return_contributions=True,
            )
        names = ("gas", "cloud", "rain", "scintillation", "total")
        return {k: np.broadcast_to(np.asarray(getattr(v, "value", v), dtype=np.float64), lat.shape).reshape(shape)
                for k, v in zip(names, parts)}

    def _fill(self, cells: np.ndarray) -> None:
        """Compute the knots of the cells not cached yet, all at once.

        The same models and inputs as ``itur.atmospheric_attenuation_slant_path``, with
        one saving: gas and cloud losses are computed at zenith once per cell and divided
        by sin(el), which is what ITU-R P.676 Annex 2 (above 10 deg) and P.840 prescribe
        for slant paths and what ``itur`` computes, but without ``itur``'s per-point loop
        over elevations (the gas model is evaluated point by point). Rain and
        scintillation depend on elevation otherwise and are computed at every knot.
        """
        missing = np.unique(cells[[c not in self._cache for c in cells.tolist()]]) if len(cells) else cells
        if not len(missing):
            return
        from h3.api import basic_int

        centres = np.array([basic_int.cell_to_latlng(c) for c in missing.tolist()]).reshape(-1, 2)
        total = self._knots_db(centres[:, 0], centres[:, 1])
        for c, row in zip(missing.tolist(), total):
            self._cache[c] = row

    def _knots_db(self, latitude_deg: np.ndarray, longitude_deg: np.ndarray) -> np.ndarray:
        """Total loss (dB) at every knot for each point: ``(n_points, n_knots)``."""
        _itur()
        import warnings

        from itur.models import itu618, itu676, itu835, itu836, itu840, itu1510, itu1511

        lat, lon = np.asarray(latitude_deg, np.float64), np.asarray(longitude_deg, np.float64)
        n, k = len(lat), len(self.knots_deg)
        f_ghz, p = self.frequency_hz / 1e9, self.exceedance_pct
        p_cg = max(1.0, p)  # P.618-13 eqs. 64-65: gas and clouds at p < 1 % are in the rain statistics

        def v(q) -> np.ndarray:
            return np.asarray(getattr(q, "value", q), dtype=np.float64)

        with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            warnings.simplefilter("ignore", RuntimeWarning)
            hs = v(itu1511.topographic_altitude(lat, lon))
            t_k = v(itu1510.surface_mean_temperature(lat, lon))
            pres = v(itu835.standard_pressure(hs))
            v_t = v(itu836.total_water_vapour_content(lat, lon, p_cg, hs))
            rho = v(itu836.surface_water_vapour_density(lat, lon, p_cg, hs))
            zen = np.full(n, 90.0)
            gas_z = v(itu676.gaseous_attenuation_slant_path(f_ghz, zen, rho, pres, t_k, v_t, hs, mode="approx")).reshape(n)
            cloud_z = v(itu840.cloud_attenuation(lat, lon, zen, f_ghz, p_cg)).reshape(n)
            la, lo = np.repeat(lat, k), np.repeat(lon, k)
            el = np.tile(self.knots_deg, n)
            if self.include_rain:
                rain = v(itu618.rain_attenuation(la, lo, f_ghz, el, hs=np.repeat(hs, k), p=p,
                                                 tau=self.polarization_tilt_deg)).reshape(n, k)
            else:
                rain = np.zeros((n, k))
            scint = v(itu618.scintillation_attenuation(
                la, lo, f_ghz, el, p, self.antenna_diameter_m, self.antenna_efficiency,
                np.repeat(t_k, k), None, np.repeat(pres, k),
            )).reshape(n, k)
        inv_sin = 1.0 / np.sin(np.radians(self.knots_deg))[None, :]
        return gas_z[:, None] * inv_sin + np.sqrt((rain + cloud_z[:, None] * inv_sin) ** 2 + scint**2)

    def loss_db(self, cells, elevation_rad) -> np.ndarray:
        """Total loss (dB) for links from the centres of ``cells`` (int64 H3) at these elevations.

        ``cells`` and ``elevation_rad`` have the same shape; computed cells are cached.
        """
        cells = np.asarray(cells, dtype=np.int64)
        el = np.degrees(_f64(elevation_rad))
        shape = np.broadcast_shapes(cells.shape, el.shape)
        cells, el = np.broadcast_to(cells, shape).ravel(), np.broadcast_to(el, shape).ravel()
        if not len(cells):
            return np.zeros(shape)
        uniq, inv = np.unique(cells, return_inverse=True)
        self._fill(uniq)
        table = np.stack([self._cache[c] for c in uniq.tolist()])  # (n_unique, n_knots)
        # linear in cosec(el), in which the path through the atmosphere is nearly linear
        kn = self.knots_deg
        e = np.clip(el, kn[0], kn[-1])
        j = np.clip(np.searchsorted(kn, e, side="right") - 1, 0, len(kn) - 2)
        x, x0, x1 = (1.0 / np.sin(np.radians(v)) for v in (e, kn[j], kn[j + 1]))
        w = (x - x0) / (x1 - x0)
        out = table[inv, j] * (1.0 - w) + table[inv, j + 1] * w
        return out.reshape(shape)


def _check_resolution(resolution) -> int:
    if isinstance(resolution, bool) or not isinstance(resolution, int | np.integer) or not 0 <= resolution <= 15:
        raise ParameterError(f"H3 resolution {resolution!r} is outside 0-15; expected a whole number from 0 to 15")
    return int(resolution)
