"""Service policy: who the operator serves, where traffic may land and exit, and why not.

A :class:`ServicePolicy` says, per country, whether terminals there are served, whether a
gateway there may land traffic and whether a PoP there may hand it to the Internet; it adds
Starlink's roaming limit (60 days outside the home country), a speed gate (90 km/h in
Ukraine since 2026), a terminal whitelist and disabled H3 cells. :func:`admit` decides,
for every terminal and instant, one of Starlink's own disablement codes
(:class:`Disablement`); :func:`explain` says why for one terminal.

Routing honours a policy through :func:`policy_network` (a :class:`~leosim.network.routing.Network`
built with only the allowed gateways and PoPs) and :func:`apply_admission` (a terminal that
is not admitted carries no traffic). :func:`jurisdictions` reads, from routed paths, the
countries whose territory each terminal's traffic lands in (gateway) and leaves the
satellite network from (PoP): who can observe it.

Sources: Starlink terms of service (roaming: use outside the country of the service
address for more than two months needs a change of country); the disablement codes are
those the terminal's gRPC API reports (``dish_get_status.disablement_code``); Ukraine's
2026 rules (a whitelist of verified terminals, a 90 km/h speed gate) as reported in
February 2026. Which code the speed gate and the whitelist produce is not published: we
use ``ROAM_RESTRICTED`` and ``ACCOUNT_DISABLED`` (assumption).

Needs the ``policy`` extra (``h3``, ``shapely``) for countries and cells.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

import numpy as np

from leosim.core.geodesy import great_circle_m
from leosim.core.values import cut_repr as _cut
from leosim.errors import ParameterError, PlaceError, PolicyError, require

__all__ = [
    "Admission",
    "CountrySet",
    "Disablement",
    "Jurisdiction",
    "PolicyError",
    "ServicePolicy",
    "Terminal",
    "admit",
    "apply_admission",
    "explain",
    "jurisdictions",
    "policy_network",
]

#: Starlink's roaming limit: days a terminal may be used outside its home country.
ROAMING_LIMIT_DAYS = 60.0
#: Ukraine's 2026 speed gate for terminals in its territory, km/h.
UKRAINE_SPEED_GATE_KMH = 90.0
#: H3 resolution of the cell a residential terminal must stay in (Starlink's cells are
#: resolution-5 H3 hexagons, ~253 km2; that the service-address check is "same cell" is an
#: assumption).
SERVICE_CELL_RESOLUTION = 5
#: The longest roaming limit a policy may set, days (100 years: the scenario schema's
#: ``days_abroad`` stops there too).
ROAMING_LIMIT_MAX_DAYS = 36_500.0
#: The highest speed gate a policy may set, km/h (the scenario schema's ``speed_kmh`` limit).
SPEED_GATE_MAX_KMH = 100_000.0




def _name_of(value: Any, where: str) -> str:
    if not isinstance(value, str) or len(value) > 200:
        raise PolicyError(f"{where}: name {_cut(value)} is not a name; expected a short text such as 'ukraine-2026'")
    return value


def _real(value: Any) -> bool:
    """A finite int or float (not a bool); an int too large for a float is not."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:
        return False



class Disablement(StrEnum):
    """Starlink's disablement codes (terminal gRPC API), ``OKAY`` when served."""

    OKAY = "OKAY"
    NO_ACTIVE_ACCOUNT = "NO_ACTIVE_ACCOUNT"
    ACCOUNT_DISABLED = "ACCOUNT_DISABLED"
    UNKNOWN_LOCATION = "UNKNOWN_LOCATION"
    IN_OCEAN = "IN_OCEAN"
    BLOCKED_COUNTRY = "BLOCKED_COUNTRY"
    CELL_IS_DISABLED = "CELL_IS_DISABLED"
    ROAM_RESTRICTED = "ROAM_RESTRICTED"
    TOO_FAR_FROM_SERVICE_ADDRESS = "TOO_FAR_FROM_SERVICE_ADDRESS"


# The order checks run in: the first that fails gives the code. Account first (nothing
# else matters without one), then location (a terminal that cannot locate itself cannot be
# checked against any place rule), then place, then movement.
CHECK_ORDER = tuple(Disablement)

_PLANS = ("roam", "residential", "maritime")


# ----------------------------------------------------------------------- countries
def _country(code: str, where: str = "") -> str:
    from leosim.ground.countries import _code

    try:
        return _code(code)
    except PlaceError as exc:
        raise PlaceError(f"{where}{exc}") from None


@dataclass(frozen=True)
class CountrySet:
    """A set of countries: every country (``all_``) less ``excluded``, or just ``listed``.

    >>> s = CountrySet.of(["ir", "Ukraine"])
    >>> "IR" in s, "UA" in s, "US" in s, str(s)
    (True, True, False, 'IR, UA')
    >>> "IR" in CountrySet.everything(excluding=["IR"]), str(CountrySet.everything())
    (False, 'all')
    """

    all_: bool = False
    listed: frozenset[str] = frozenset()
    excluded: frozenset[str] = frozenset()

    @classmethod
    def everything(cls, excluding: Iterable[str] = ()) -> CountrySet:
        return cls(True, frozenset(), frozenset(_country(c) for c in excluding))

    @classmethod
    def of(cls, codes: Iterable[str]) -> CountrySet:
        return cls(False, frozenset(_country(c) for c in codes), frozenset())

    def __contains__(self, code: object) -> bool:
        if self.all_:
            return code not in self.excluded
        return code in self.listed

    def without(self, codes: Iterable[str]) -> CountrySet:
        codes = frozenset(_country(c) for c in codes)
        if self.all_:
            return CountrySet(True, frozenset(), self.excluded | codes)
        return CountrySet(False, self.listed - codes, frozenset())

    def mask(self, codes: np.ndarray) -> np.ndarray:
        """Membership of an array of codes, vectorised."""
        codes = np.asarray(codes)
        if self.all_:
            return ~np.isin(codes, list(self.excluded)) if self.excluded else np.ones(codes.shape, dtype=bool)
        return np.isin(codes, list(self.listed))

    def __str__(self) -> str:
        if self.all_:
            return "all" + (" except " + ", ".join(sorted(self.excluded)) if self.excluded else "")
        return ", ".join(sorted(self.listed)) or "none"


# -------------------------------------------------------------------------- policy
@dataclass(frozen=True)
class ServicePolicy:
    """The operator's service rules.

    ``served``: countries where terminals are served (elsewhere ``BLOCKED_COUNTRY``).
    ``gateway_countries``: where a gateway may land traffic; ``pop_countries``: where a PoP
    may take it to the Internet. ``roaming_limit_days``: days a terminal may spend outside
    its home country (``None``: no limit; default 60, Starlink terms of service).
    ``speed_gates_kmh``: per country (``"*"`` for everywhere), the speed above which a
    terminal is not served (default Ukraine 90 km/h, 2026). ``whitelist``: terminal ids
    allowed in ``whitelist_countries`` (``None``: no whitelist; the countries default to
    everywhere). ``disabled_cells``: H3 cells (any resolution, v4 strings) where service is
    off. ``name`` labels the policy in tables.
    """

    name: str = "all"
    served: CountrySet = field(default_factory=CountrySet.everything)
    gateway_countries: CountrySet = field(default_factory=CountrySet.everything)
    pop_countries: CountrySet = field(default_factory=CountrySet.everything)
    roaming_limit_days: float | None = ROAMING_LIMIT_DAYS
    speed_gates_kmh: Mapping[str, float] = field(default_factory=lambda: {"UA": UKRAINE_SPEED_GATE_KMH})
    whitelist: frozenset[str] | None = None
    whitelist_countries: CountrySet = field(default_factory=CountrySet.everything)
    disabled_cells: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        limit = self.roaming_limit_days
        if limit is not None and not (_real(limit) and 0.0 <= limit <= ROAMING_LIMIT_MAX_DAYS):
            raise PolicyError(
                f"roaming_limit_days {_cut(limit)} is not a number of days from 0 to {ROAMING_LIMIT_MAX_DAYS:,.0f}; "
                "expected e.g. 60, or false for no limit"
            )
        if limit is not None:
            object.__setattr__(self, "roaming_limit_days", float(limit))
        gates = {}
        for code, kmh in dict(self.speed_gates_kmh).items():
            if not isinstance(code, str) or len(code) > 60:
                raise PolicyError(f"speed gate for {_cut(code)}: expected a country code such as 'UA', or '*'")
            key = "*" if code == "*" else _country(code, "speed gate: ")
            if not (_real(kmh) and 0 < kmh <= SPEED_GATE_MAX_KMH):
                raise PolicyError(f"speed gate for {code!r} is {_cut(kmh)}; expected a speed in km/h > 0 and at most "
                                  f"{SPEED_GATE_MAX_KMH:,.0f}, such as 90")
            gates[key] = float(kmh)
        object.__setattr__(self, "speed_gates_kmh", gates)
        if self.disabled_cells:
            h3 = require("h3", "policy")

            for cell in self.disabled_cells:
                # an H3 id is 15 or 16 hex digits; anything else never reaches h3, whose
                # C conversion overflows on a negative or over-long number
                try:
                    valid = (isinstance(cell, str) and re.fullmatch(r"[0-9a-fA-F]{15,16}", cell) is not None
                             and bool(h3.is_valid_cell(cell)))
                except (ValueError, TypeError, OverflowError):
                    valid = False
                if not valid:
                    raise PolicyError(
                        f"disabled cell {_cut(cell)} is not an H3 cell; expected a v4 id such as '852f5a7bfffffff'"
                    )

    # --------------------------------------------------------------- presets
    @classmethod
    def preset(cls, name: str) -> ServicePolicy:
        """``all``: every country served, every gateway and PoP usable, Starlink's roaming
        limit and Ukraine's speed gate; ``none``: no country served.

        >>> ServicePolicy.preset("none").serves("US")
        False
        """
        key = str(name).strip().lower()
        if key == "all":
            return cls(name="all")
        if key == "none":
            return cls(name="none", served=CountrySet())
        raise PolicyError(f"unknown policy preset {name!r}; expected 'all', 'none' or a policy file (.toml or .csv)")

    @classmethod
    def from_document(cls, doc) -> ServicePolicy:
        """A policy from a file read by :func:`leosim.formats.policy.read_policy_file`."""
        if doc.rows is not None:
            return cls.from_rows(doc.rows, name=doc.name, where=doc.source)
        return cls.from_mapping(doc.mapping, doc.source, name=doc.name)

    @classmethod
    def from_mapping(cls, doc: Mapping[str, Any], where: str, name: str | None = None) -> ServicePolicy:
        """A policy from a TOML document; every key is optional::

        preset = "all"                 # start from "all" or "none"
        served = ["US", "UA"]          # served as well as the preset's
        blocked = ["IR"]               # not served
        gateway_countries = "all"      # "all", "served" or a list
        gateway_blocked = ["RU"]
        pop_countries = "served"       # "all", "served" or a list
        pop_blocked = []
        roaming_limit_days = 60        # or false for no limit
        whitelist = ["dish-1"]         # terminal ids
        whitelist_countries = ["UA"]   # where the whitelist applies (default everywhere)
        disabled_cells = ["852f5a7bfffffff"]
        [speed_gates_kmh]
        UA = 90
        """
        known = {
            "preset", "name", "served", "blocked", "gateway_countries", "gateway_blocked", "pop_countries",
            "pop_blocked", "roaming_limit_days", "speed_gates_kmh", "whitelist", "whitelist_countries",
            "disabled_cells",
        }  # fmt: skip
        unknown = sorted(set(doc) - known)
        if unknown:
            raise PolicyError(f"{where}: unknown key {_cut(unknown[0])}; expected one of: {', '.join(sorted(known))}")
        preset = doc.get("preset", "all")
        if not isinstance(preset, str):
            raise PolicyError(f"{where}: preset must be 'all' or 'none', got {_cut(preset)}")
        base = cls.preset(preset)

        def codes(key: str) -> list[str]:
            value = doc.get(key, [])
            if not isinstance(value, list) or not all(isinstance(v, str) and len(v) <= 60 for v in value):
                raise PolicyError(f'{where}: {key} must be a list of country codes such as ["IR", "UA"], got {_cut(value)}')
            return [_country(v, f"{where}: {key}: ") for v in value]

        served = base.served
        extra = frozenset(codes("served"))
        if extra and served.all_:
            served = CountrySet(True, frozenset(), served.excluded - extra)
        elif extra:
            served = CountrySet(False, served.listed | extra, frozenset())
        served = served.without(codes("blocked"))

        def countries(key: str, blocked_key: str) -> CountrySet:
            value = doc.get(key, "all")
            if value == "all":
                s = CountrySet.everything()
            elif value == "served":
                s = served
            elif isinstance(value, list):
                s = CountrySet.of(codes(key))
            else:
                raise PolicyError(f'{where}: {key} must be "all", "served" or a list of country codes, got {_cut(value)}')
            return s.without(codes(blocked_key))

        limit = doc.get("roaming_limit_days", ROAMING_LIMIT_DAYS)
        if limit is False:
            limit = None
        elif isinstance(limit, bool) or not isinstance(limit, int | float):
            raise PolicyError(f"{where}: roaming_limit_days must be a number of days or false, got {_cut(limit)}")
        gates = doc.get("speed_gates_kmh", base.speed_gates_kmh)
        if not isinstance(gates, Mapping):
            raise PolicyError(f"{where}: speed_gates_kmh must be a table such as {{ UA = 90 }}, got {_cut(gates)}")
        whitelist = doc.get("whitelist")
        if whitelist is not None and (
            not isinstance(whitelist, list) or not all(isinstance(v, str) for v in whitelist)
        ):
            raise PolicyError(f"{where}: whitelist must be a list of terminal ids, got {_cut(whitelist)}")
        cells = doc.get("disabled_cells", [])
        if not isinstance(cells, list) or not all(isinstance(c, str) for c in cells):
            raise PolicyError(f"{where}: disabled_cells must be a list of H3 cell ids such as ['852f5a7bfffffff'], got {_cut(cells)}")
        wl_countries = (
            CountrySet.of(codes("whitelist_countries")) if "whitelist_countries" in doc else CountrySet.everything()
        )
        try:
            return cls(
                name=_name_of(doc.get("name", name or where), where),
                served=served,
                gateway_countries=countries("gateway_countries", "gateway_blocked"),
                pop_countries=countries("pop_countries", "pop_blocked"),
                roaming_limit_days=limit,
                speed_gates_kmh=dict(gates),
                whitelist=None if whitelist is None else frozenset(whitelist),
                whitelist_countries=wl_countries,
                disabled_cells=frozenset(cells),
            )
        except PolicyError as exc:
            raise PolicyError(f"{where}: {exc}") from None

    @classmethod
    def from_rows(cls, rows, name: str, where: str) -> ServicePolicy:
        """A policy from a CSV policy's rows (:class:`~leosim.formats.policy.PolicyRow`)::

            country,served,gateway,pop,speed_gate_kmh
            *,yes,yes,yes,
            IR,yes,no,no,
            UA,yes,yes,yes,90

        ``country`` is a code or ``*`` (every country not listed; without that row,
        unlisted countries are not served and host no usable gateway or PoP). ``gateway``
        and ``pop`` default to ``served``; an empty speed gate is none. The roaming limit
        is Starlink's 60 days.
        """
        defaults = {"served": False, "gateway": False, "pop": False}
        flags: dict[str, dict[str, bool]] = {}
        gates: dict[str, float] = {}
        seen: dict[str, str] = {}
        for r in rows:
            f = {"served": r.served, "gateway": r.gateway, "pop": r.pop}
            if r.country == "*":
                key = "*"
            else:
                if len(r.country) > 60:
                    raise PolicyError(f"{r.where}: country {_cut(r.country)} is not a country; expected an ISO code "
                                      "such as 'IR' or '*'")
                key = _country(r.country, f"{r.where}: ")
            if key in seen:  # a second row would silently overrule the first
                raise PolicyError(f"{r.where}: {'the * row' if key == '*' else 'country ' + key} is given again "
                                  f"(first at {seen[key]}); expected one row per country")
            seen[key] = r.where
            if key == "*":
                defaults = f
            else:
                flags[key] = f
            if r.speed_gate_kmh is not None:
                gates[key] = r.speed_gate_kmh

        def build(key: str) -> CountrySet:
            if defaults[key]:
                return CountrySet.everything(excluding=[c for c, f in flags.items() if not f[key]])
            return CountrySet.of([c for c, f in flags.items() if f[key]])

        try:
            return cls(name=name, served=build("served"), gateway_countries=build("gateway"),
                       pop_countries=build("pop"), speed_gates_kmh=gates)
        except PolicyError as exc:
            raise PolicyError(f"{where}: {exc}") from None

    # ----------------------------------------------------------------- views
    def serves(self, country: str) -> bool:
        return _country(country) in self.served

    def allows_gateway(self, country: str | None) -> bool:
        return country is not None and country in self.gateway_countries

    def allows_pop(self, country: str | None) -> bool:
        return country is not None and country in self.pop_countries

    def speed_gate_kmh(self, country: str) -> float | None:
        return self.speed_gates_kmh.get(country, self.speed_gates_kmh.get("*"))

    def describe(self) -> str:
        limit = "none" if self.roaming_limit_days is None else f"{self.roaming_limit_days:g} days"
        gates = ", ".join(f"{k} {v:g} km/h" for k, v in sorted(self.speed_gates_kmh.items())) or "none"
        return (
            f"policy {self.name!r}: served {self.served}; gateways {self.gateway_countries}; PoPs {self.pop_countries}; "
            f"roaming limit {limit}; speed gates {gates}"
        )


# ------------------------------------------------------------------------ terminals
@dataclass(frozen=True)
class Terminal:
    """A user terminal's account, as far as admission cares.

    ``home_country``: the country of its service address (``None``: the first country it
    is seen in). ``account``: ``"active"``, ``"none"`` (never activated) or
    ``"disabled"``. ``plan``: ``"roam"`` (default; usable anywhere served, subject to the
    roaming limit), ``"residential"`` (only in the H3 cell of ``service_address``) or
    ``"maritime"`` (also served at sea). ``days_abroad``: days already spent outside the
    home country before the first instant.
    """

    id: str
    home_country: str | None = None
    account: str = "active"
    plan: str = "roam"
    service_address: tuple[float, float] | None = None
    days_abroad: float = 0.0

    def __post_init__(self) -> None:
        if self.home_country is not None:
            object.__setattr__(
                self, "home_country", _country(self.home_country, f"terminal {self.id!r}: home country: ")
            )
        if self.account not in ("active", "none", "disabled"):
            raise ParameterError(
                f"terminal {self.id!r}: account {self.account!r}; expected 'active', 'none' or 'disabled'"
            )
        if self.plan not in _PLANS:
            raise ParameterError(f"terminal {self.id!r}: plan {self.plan!r}; expected one of {', '.join(_PLANS)}")
        if self.plan == "residential" and self.service_address is None:
            raise ParameterError(f"terminal {self.id!r}: a residential plan needs a service_address (lat, lon)")
        if not (_real(self.days_abroad) and 0.0 <= self.days_abroad <= ROAMING_LIMIT_MAX_DAYS):
            raise ParameterError(f"terminal {_cut(self.id, 80)}: days_abroad {_cut(self.days_abroad)}; expected days "
                                 f"from 0 to {ROAMING_LIMIT_MAX_DAYS:,.0f}")


# ------------------------------------------------------------------------ admission
@dataclass(frozen=True)
class Admission:
    """Admission of ``n_terminals`` terminals at ``n_times`` instants.

    ``codes``: ``(n_times, n_terminals)`` array of :class:`Disablement` values (str).
    ``country``: the country each terminal is in (``"none"`` at sea, ``""`` unknown).
    ``days_abroad`` and ``speed_kmh``: what the roaming and speed rules saw.
    """

    policy: ServicePolicy
    terminals: tuple[Terminal, ...]
    codes: np.ndarray
    country: np.ndarray
    home_country: tuple[str | None, ...]
    days_abroad: np.ndarray
    speed_kmh: np.ndarray
    location_known: np.ndarray

    @property
    def admitted(self) -> np.ndarray:
        """``(n_times, n_terminals)`` bool: served (code ``OKAY``)."""
        return self.codes == Disablement.OKAY.value

    def reason(self, k: int, i: int) -> str:
        """Why terminal ``i`` got its code at instant ``k``, in one sentence."""
        code = Disablement(self.codes[k, i])
        t, p = self.terminals[i], self.policy
        cc = str(self.country[k, i])
        where = f"{cc} ({_name(cc)})" if cc not in ("", "none") else "at sea"
        home = self.home_country[i]
        if code is Disablement.OKAY:
            abroad = f", {self.days_abroad[k, i]:.0f} days abroad" if home and cc != home and cc != "none" else ""
            return f"served: {where} is served by policy {p.name!r}{abroad}"
        if code is Disablement.NO_ACTIVE_ACCOUNT:
            return f"terminal {t.id!r} has no active account"
        if code is Disablement.ACCOUNT_DISABLED:
            if t.account == "disabled":
                return f"the account of terminal {t.id!r} is disabled"
            return f"terminal {t.id!r} is not on the whitelist that applies in {where}"
        if code is Disablement.UNKNOWN_LOCATION:
            return "the terminal cannot locate itself (no GPS fix, e.g. jammed), so no place rule can be checked"
        if code is Disablement.IN_OCEAN:
            return f"the terminal is at sea and its plan ({t.plan!r}) is not maritime"
        if code is Disablement.BLOCKED_COUNTRY:
            return f"{where} is not served by policy {p.name!r}"
        if code is Disablement.CELL_IS_DISABLED:
            return "the terminal's H3 cell is disabled by the policy"
        if code is Disablement.ROAM_RESTRICTED:
            gate = p.speed_gate_kmh(cc)
            if gate is not None and self.speed_kmh[k, i] > gate:
                return f"moving at {self.speed_kmh[k, i]:.0f} km/h, over the {gate:g} km/h speed gate in {where}"
            return (
                f"{self.days_abroad[k, i]:.0f} days outside its home country {home}, over the "
                f"{p.roaming_limit_days:g}-day roaming limit"
            )
        return f"outside the H3 cell of its service address ({t.plan} plan)"


def _name(code: str) -> str:
    from leosim.ground.countries import country_name

    return country_name(code)


def admit(
    policy: ServicePolicy,
    terminals: Sequence[Terminal],
    times: np.ndarray,
    latitude_deg: np.ndarray,
    longitude_deg: np.ndarray,
    *,
    speed_kmh: np.ndarray | None = None,
    location_known: np.ndarray | None = None,
) -> Admission:
    """Disablement code of every terminal at every instant.

    ``times``: ``(n_times,)`` UTC ``datetime64``; ``latitude_deg``/``longitude_deg``:
    ``(n_times, n_terminals)`` (or ``(n_terminals,)`` for terminals that do not move).
    ``speed_kmh``: the terminals' ground speed; when not given it is the great-circle
    distance since the previous instant over the time step (0 at the first). ``location_known``:
    False where the terminal has no position fix (see :mod:`leosim.models.jamming`). Days abroad
    count the time since the terminal last was at home (plus its ``days_abroad``).
    """
    from leosim.ground.countries import NO_COUNTRY, country_of

    terms = tuple(terminals)
    n = len(terms)
    times = np.asarray(times, dtype="datetime64[ns]").reshape(-1)
    n_t = len(times)
    lat = np.broadcast_to(np.asarray(latitude_deg, dtype=np.float64), (n_t, n)).copy()
    lon = np.broadcast_to(np.asarray(longitude_deg, dtype=np.float64), (n_t, n)).copy()
    if n_t > 1 and np.any(np.diff(times.astype(np.int64)) < 0):
        raise ParameterError("admission times must not go backwards; expected times in increasing order")
    known = (
        np.ones((n_t, n), bool)
        if location_known is None
        else np.broadcast_to(np.asarray(location_known, bool), (n_t, n))
    )
    country = country_of(lat, lon).reshape(n_t, n) if n and n_t else np.zeros((n_t, n), dtype="<U4")
    dt_s = np.diff(times.astype(np.int64)).astype(np.float64) / 1e9 if n_t > 1 else np.zeros(0)
    if speed_kmh is None:
        speed = np.zeros((n_t, n))
        if n_t > 1:
            d_m = great_circle_m(lat[:-1], lon[:-1], lat[1:], lon[1:])
            with np.errstate(invalid="ignore", divide="ignore"):
                speed[1:] = np.where(dt_s[:, None] > 0, d_m / dt_s[:, None] * 3.6, 0.0)
    else:
        speed = np.broadcast_to(np.asarray(speed_kmh, dtype=np.float64), (n_t, n)).copy()
    # home country and days abroad, terminal by terminal (a loop over time only)
    homes: list[str | None] = []
    days = np.zeros((n_t, n))
    for i, t in enumerate(terms):
        home = t.home_country
        if home is None:
            land = country[:, i][(country[:, i] != NO_COUNTRY) & known[:, i]]
            home = str(land[0]) if len(land) else None
        homes.append(home)
        # outside the home country (at sea too); an instant without a fix neither resets
        # nor advances the count
        outside = (country[:, i] != home) & known[:, i] if home else np.zeros(n_t, bool)
        acc = t.days_abroad if outside[0] else 0.0
        for k in range(n_t):
            if k and outside[k] and outside[k - 1]:
                acc += dt_s[k - 1] / 86400.0
            elif known[k, i] and not outside[k]:
                acc = 0.0
            days[k, i] = acc if outside[k] else 0.0
    codes = np.full((n_t, n), Disablement.OKAY.value, dtype="<U28")
    undecided = np.ones((n_t, n), bool)

    def mark(mask: np.ndarray, code: Disablement) -> None:
        hit = mask & undecided
        codes[hit] = code.value
        undecided[hit] = False

    account = np.array([t.account for t in terms])
    mark(np.broadcast_to(account == "none", (n_t, n)), Disablement.NO_ACTIVE_ACCOUNT)
    mark(np.broadcast_to(account == "disabled", (n_t, n)), Disablement.ACCOUNT_DISABLED)
    if policy.whitelist is not None:
        listed = np.array([t.id in policy.whitelist for t in terms])
        mark(~listed[None, :] & policy.whitelist_countries.mask(country) & known, Disablement.ACCOUNT_DISABLED)
    mark(~known, Disablement.UNKNOWN_LOCATION)
    maritime = np.array([t.plan == "maritime" for t in terms])
    mark((country == NO_COUNTRY) & ~maritime[None, :], Disablement.IN_OCEAN)
    mark(~policy.served.mask(country) & (country != NO_COUNTRY), Disablement.BLOCKED_COUNTRY)
    if policy.disabled_cells:
        mark(_in_cells(lat, lon, policy.disabled_cells), Disablement.CELL_IS_DISABLED)
    if policy.roaming_limit_days is not None:
        mark(days > policy.roaming_limit_days, Disablement.ROAM_RESTRICTED)
    if policy.speed_gates_kmh:
        gate = np.full((n_t, n), np.inf)
        if "*" in policy.speed_gates_kmh:
            gate[:] = policy.speed_gates_kmh["*"]
        for code, kmh in policy.speed_gates_kmh.items():
            if code != "*":
                gate[country == code] = kmh
        mark(speed > gate, Disablement.ROAM_RESTRICTED)
    residential = [i for i, t in enumerate(terms) if t.plan == "residential"]
    if residential:
        from h3.api import basic_int

        far = np.zeros((n_t, n), bool)
        for i in residential:
            home_cell = basic_int.latlng_to_cell(*terms[i].service_address, SERVICE_CELL_RESOLUTION)
            far[:, i] = [
                basic_int.latlng_to_cell(a, b, SERVICE_CELL_RESOLUTION) != home_cell
                for a, b in zip(lat[:, i], lon[:, i])
            ]
        mark(far, Disablement.TOO_FAR_FROM_SERVICE_ADDRESS)
    country = np.where(known, country, "")
    return Admission(policy, terms, codes, country, tuple(homes), days, speed, known.copy())


def _in_cells(lat: np.ndarray, lon: np.ndarray, cells: Iterable[str]) -> np.ndarray:
    h3 = require("h3", "policy")
    from h3.api import basic_int

    by_res: dict[int, set[int]] = {}
    for c in cells:
        by_res.setdefault(h3.get_resolution(c), set()).add(h3.str_to_int(c))
    out = np.zeros(lat.shape, bool)
    flat_lat, flat_lon = lat.ravel().tolist(), lon.ravel().tolist()
    flat = out.reshape(-1)
    for res, wanted in by_res.items():
        flat |= np.array(
            [basic_int.latlng_to_cell(a, b, res) in wanted for a, b in zip(flat_lat, flat_lon)], dtype=bool
        )
    return out


def explain(
    policy: ServicePolicy,
    latitude_deg: float,
    longitude_deg: float,
    *,
    terminal: Terminal | None = None,
    speed_kmh: float = 0.0,
    location_known: bool = True,
) -> tuple[Disablement, str]:
    """The code and the reason for one terminal at one place: what ``leosim policy check`` prints.

    >>> code, why = explain(ServicePolicy.preset("all"), 35.6892, 51.3890, terminal=Terminal("t", home_country="IR"))
    >>> code.value, why
    ('OKAY', "served: IR (Iran) is served by policy 'all'")
    >>> explain(ServicePolicy.preset("all"), 0.0, 0.0)[0].value
    'IN_OCEAN'
    """
    terminal = terminal or Terminal("terminal")
    a = admit(
        policy,
        [terminal],
        np.array(["2026-01-01T00:00"], dtype="datetime64[ns]"),
        np.array([[latitude_deg]]),
        np.array([[longitude_deg]]),
        speed_kmh=np.array([[speed_kmh]]),
        location_known=np.array([[location_known]]),
    )
    return Disablement(a.codes[0, 0]), a.reason(0, 0)


# ------------------------------------------------------------------------- routing
def _site_countries(segment) -> np.ndarray:
    """ISO code of each site: its ``country`` field, else the country it stands in."""
    from leosim.ground.countries import country_of

    given = np.array([s.country or "" for s in segment], dtype="<U4")
    if len(given) and (given == "").any():
        missing = given == ""
        given[missing] = country_of(segment.latitude_deg[missing], segment.longitude_deg[missing])
    return given


def allowed_ground(policy: ServicePolicy, gateways, pops):
    """The gateways and PoPs a policy lets traffic land at and exit through."""
    from leosim.ground.sites import GroundSegment

    gw_cc, pop_cc = _site_countries(gateways), _site_countries(pops)
    gw = GroundSegment(s for s, c in zip(gateways, gw_cc) if policy.allows_gateway(str(c)))
    pp = GroundSegment(s for s, c in zip(pops, pop_cc) if policy.allows_pop(str(c)))
    return gw, pp


def policy_network(
    policy: ServicePolicy,
    constellation,
    endpoints,
    *,
    gateways=None,
    pops=None,
    admitted: np.ndarray | None = None,
    **network_options,
):
    """A :class:`~leosim.network.routing.Network` that honours ``policy``.

    Only gateways in ``policy.gateway_countries`` and PoPs in ``policy.pop_countries``
    are nodes, so traffic from a country without an allowed gateway rides laser links to
    one abroad. ``admitted`` (``(n_endpoints,)`` bool, e.g. ``admission.admitted.all(0)``)
    drops terminals that are never admitted; a terminal admitted at some instants only is
    kept, and :func:`apply_admission` removes its traffic at the others. Defaults:
    the vendored Starlink gateways and PoPs. Other keyword arguments go to ``Network``.
    Raises :class:`PolicyError` when the policy leaves no gateway or no PoP but routing
    needs them.
    """
    from leosim.ground.sites import GroundSegment
    from leosim.network.routing import Network

    gateways = GroundSegment.starlink_gateways() if gateways is None else gateways
    pops = GroundSegment.starlink_pops() if pops is None else pops
    gw, pp = allowed_ground(policy, gateways, pops)
    if admitted is not None:
        keep = np.asarray(admitted, bool).reshape(-1)
        if len(keep) != len(endpoints):
            raise ParameterError(f"admitted has {len(keep)} entries for {len(endpoints)} endpoints; expected one each")
        endpoints = GroundSegment(s for s, k in zip(endpoints, keep) if k or s.kind == "server")
    try:
        return Network(constellation=constellation, endpoints=endpoints, gateways=gw, pops=pp, **network_options)
    except ParameterError as exc:
        if len(gw) == 0 or len(pp) == 0:
            raise PolicyError(
                f"policy {policy.name!r} allows {len(gw)} of {len(gateways)} gateways and {len(pp)} of {len(pops)} PoPs; "
                f"routing needs at least one of each ({exc})"
            ) from None
        raise


def apply_admission(result, pairs: np.ndarray, admitted: np.ndarray, server_mask: np.ndarray | None = None):
    """A copy of a routing ``ChunkResult`` where pairs with a non-admitted terminal carry nothing.

    ``admitted``: ``(n_steps, n_endpoints)`` bool (servers are always admitted: pass
    ``server_mask``). RTT and length become NaN, hops 0, paths empty.
    """
    pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    ok = np.asarray(admitted, bool).copy()
    if server_mask is not None:
        ok[:, np.asarray(server_mask, bool)] = True
    live = ok[:, pairs[:, 0]] & ok[:, pairs[:, 1]]
    rtt = np.where(live, result.rtt_s, np.nan)
    length = np.where(live, result.length_m, np.nan)
    hops = np.where(live, result.hops, 0).astype(result.hops.dtype)
    paths = None
    if result.paths is not None:
        paths = [[p if live[k, j] else () for j, p in enumerate(step)] for k, step in enumerate(result.paths)]
    return replace(result, rtt_s=rtt, length_m=length, hops=hops, paths=paths)


@dataclass(frozen=True)
class Jurisdiction:
    """Where one pair's traffic touches the ground at one instant.

    ``gateway``/``gateway_country``: where it lands from the satellites (``None`` when
    the path uses no gateway, e.g. terminal to terminal over lasers); ``pop``/
    ``pop_country``: where it leaves for the Internet; ``countries``: every country whose
    territory a ground node of the path stands in, in path order (endpoints included).
    """

    gateway: str | None
    gateway_country: str | None
    pop: str | None
    pop_country: str | None
    countries: tuple[str, ...]


NO_ROUTE = Jurisdiction(None, None, None, None, ())


def jurisdictions(network, paths: list[list[tuple[int, ...]]]) -> list[list[Jurisdiction]]:
    """For each step and pair of ``solve(..., want_paths=True).paths``, its :class:`Jurisdiction`.

    On a path the last gateway node is where traffic lands and the last PoP where it exits
    (a fibre hop between PoPs is inside the operator's network, but on the PoPs' soil).
    """
    layout = network._layout
    ep_cc = _site_countries(network.endpoints)
    gw_cc = _site_countries(network.gateways)
    pop_cc = _site_countries(network.pops)
    out = []
    for step in paths:
        row = []
        for nodes in step:
            if not nodes:
                row.append(NO_ROUTE)
                continue
            gw = pop = None
            gwc = popc = None
            seen: list[str] = []
            for node in nodes:
                kind = network.node_kind(node)
                if kind == "satellite":
                    continue
                if kind == "server":
                    cc = str(ep_cc[-1 - node])
                elif kind == "endpoint":
                    e = (node - layout["src"]) % max(layout["E"], 1)
                    cc = str(ep_cc[e])
                elif kind == "gateway":
                    g = node - layout["gw_in"]
                    if g >= layout["G"]:
                        g = node - layout["gw_out"]
                    gw, gwc = network.gateways.names[g], str(gw_cc[g])
                    cc = gwc
                else:
                    p = node - layout["pop"]
                    pop, popc = network.pops.names[p], str(pop_cc[p])
                    cc = popc
                if not seen or seen[-1] != cc:
                    seen.append(cc)
            row.append(Jurisdiction(gw, gwc, pop, popc, tuple(seen)))
        out.append(row)
    return out
