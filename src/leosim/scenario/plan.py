"""The plan of a scenario: every name and file resolved, nothing solved yet.

:func:`build_plan` turns a validated :class:`~leosim.scenario.schema.Scenario` into a
:class:`Plan`: the constellation, the time grid, the terminals (and where each one
stands, on land), the gateways and PoPs traffic may use, the network, the pairs to
route, and each section of the scenario built (:mod:`leosim.scenario.sections`).
``leosim validate`` stops here; ``leosim run`` goes on to run the sections.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np

from leosim.core.geodesy import great_circle_m
from leosim.core.time import TimeGrid, parse_duration, parse_time
from leosim.engine.size import RUN_BYTES_PER_STEP_PAIR, SizeEstimate, estimate
from leosim.errors import LeosimError, ScenarioError
from leosim.ground.countries import on_land, snap_to_land
from leosim.ground.geonames import continent_of
from leosim.ground.places import resolve_endpoint, resolve_place
from leosim.ground.sites import GroundSegment, Site, SiteKind
from leosim.network.builder import build_network, home_pop_index
from leosim.network.links import LinkOptions
from leosim.network.modes import RoutingMode, routing_mode
from leosim.network.routing import Network
from leosim.scenario.resolve import load_policy, resolve_path
from leosim.scenario.schema import Scenario
from leosim.space.constellation import Constellation, Shell


@dataclass
class Plan:
    """Everything a run needs, built from a scenario before any step is solved."""

    scenario: Scenario
    source: Path | None
    constellation: Constellation
    grid: TimeGrid
    links: LinkOptions
    routing: RoutingMode
    terminals: list[Site]             # the scenario's terminals, in order
    gateways: GroundSegment           # where traffic may land (after countries and policy)
    pops: GroundSegment               # where traffic may leave for the internet
    network: Network | None           # None when the scenario routes nothing
    pairs: np.ndarray                 # (n_pairs, 2) endpoint indices
    pair_kind: list[str]              # "to-pop" or "pair"
    regions: list[str]                # per pair: the terminal's region (continent)
    labels: list[str]
    policy: object | None = None      # models.policy.ServicePolicy with [policy] or [jamming]
    sections: dict = field(default_factory=dict)  # section name -> what its build() returned
    size: SizeEstimate | None = None  # what running it writes and holds (scenario_size)

    @property
    def endpoints(self) -> GroundSegment:
        return self.network.endpoints if self.network is not None else GroundSegment.from_sites(self.terminals)

    @cached_property
    def terminal_index(self) -> np.ndarray:
        """Endpoint index of each terminal (the endpoints list terminals first)."""
        return np.arange(len(self.terminals), dtype=np.int64)

    @cached_property
    def terminal_position(self) -> tuple[np.ndarray, np.ndarray]:
        """Where each terminal stands for the operator and the adversary: its own position,
        or, for a coastal site the 1:50m coastline puts at sea, the nearest land of its own
        country within 10 km (see :func:`on_land`)."""
        return on_land(self.terminals)


#: Rough bytes of what the sections keep (they matter only for long runs): admission codes
#: and countries per step and terminal, jamming's table row per step, a latency user-step.
ADMISSION_BYTES_PER_STEP_TERMINAL = 128
JAMMING_BYTES_PER_STEP = 1_000
JAMMING_OUTPUT_BYTES_PER_STEP = 150
LATENCY_BYTES_PER_STEP_USER = 64
LATENCY_COUNTRIES_ALL = 150  # countries in Starlink's GeoIP feed, about
SIZE_FIX = "a coarser time.step or a shorter time.duration in the scenario"


def _steps(duration: str | float, step: str | float) -> float:
    """Steps of a window, as a float (no grid is built: a 1e30 s duration is 1e30 steps)."""
    return max(float(int(parse_duration(duration) / parse_duration(step) + 1e-9)), 1.0)


def scenario_size(scn: Scenario, n_pairs: int | None = None, n_terminals: int | None = None, *,
                  workers: int | None = None, command: str = "leosim run") -> SizeEstimate:
    """What ``leosim run`` of ``scn`` writes and holds (:mod:`leosim.engine.size`).

    Without ``n_pairs`` and ``n_terminals`` they are counted from the scenario's text alone
    (terminal files not read: a lower bound then), so a run too big to be meant is refused
    before the constellation is even loaded; :func:`build_plan` checks again with the
    real counts before any section allocates.
    """
    from leosim.engine.executors import default_workers

    at_least = n_terminals is None and any(g.file is not None for g in scn.ground.terminals)
    if n_terminals is None:
        n_terminals = sum(g.cities or len(g.places or []) for g in scn.ground.terminals)
    if n_pairs is None:
        to_pop = scn.traffic.destination in ("home-pop", "nearest-pop")
        n_pairs = (n_terminals if to_pop else 0) + len(scn.traffic.pairs)
    n_steps = _steps(scn.time.duration, scn.time.step)
    memory = output = 0.0
    if scn.policy is not None or scn.jamming is not None:
        memory += n_steps * n_terminals * ADMISSION_BYTES_PER_STEP_TERMINAL
    if scn.jamming is not None:
        memory += n_steps * JAMMING_BYTES_PER_STEP
        output += n_steps * JAMMING_OUTPUT_BYTES_PER_STEP
    if scn.latency is not None:
        lat = scn.latency
        n_users = lat.users * (LATENCY_COUNTRIES_ALL if lat.countries == "all" else len(lat.countries))
        memory += _steps(lat.duration or scn.time.duration, lat.step) * n_users * LATENCY_BYTES_PER_STEP_USER
    keep = RUN_BYTES_PER_STEP_PAIR + (16 if scn.outputs.report else 0)  # the report plots every step and pair
    return estimate(command, n_steps, n_pairs if n_pairs else 0, workers=workers or default_workers(),
                    store=bool(n_pairs), keep_bytes_per_step_pair=keep, extra_memory=memory, extra_output=output,
                    at_least=at_least)


def size_fix(scn: Scenario) -> str:
    """What to change in a scenario that is too big."""
    return SIZE_FIX + (" (or a coarser latency.step)" if scn.latency is not None else "")


def build_constellation(scn: Scenario, base: Path | None) -> Constellation:
    spec = scn.constellation
    if spec.preset:
        return Constellation.preset(spec.preset)
    if spec.file:
        return Constellation.from_file(resolve_path(spec.file, base))
    return Constellation.from_shells(
        [Shell(s.altitude_km * 1e3, s.inclination_deg, s.planes, s.sats_per_plane, s.phasing) for s in spec.shells]
    )


def build_terminals(scn: Scenario, base: Path | None) -> list[Site]:
    """The scenario's terminals, in order, each name once."""
    sites: list[Site] = []
    for group in scn.ground.terminals:
        if group.cities is not None:
            seg = GroundSegment.cities(group.cities, country=group.country)
            sites += [Site(s.name, s.latitude_deg, s.longitude_deg, s.altitude_m, SiteKind.TERMINAL, s.country) for s in seg]
        elif group.places is not None:
            sites += [resolve_place(p) for p in group.places]
        else:
            sites += list(GroundSegment.from_file(resolve_path(group.file, base)))
    seen, unique = set(), []
    for s in sites:
        if s.name.lower() not in seen:
            seen.add(s.name.lower())
            unique.append(s)
    return unique


def _ground_file(spec: str, kind: SiteKind, base: Path | None) -> GroundSegment:
    if spec == "none":
        return GroundSegment.from_sites([])
    network = {"starlink": "2026", "starlink-2026": "2026", "starperf-2024": "starperf-2024"}.get(spec.strip().lower())
    if network is not None:  # a vendored Starlink ground network (the 2026 one by default)
        return GroundSegment.starlink_gateways(network) if kind is SiteKind.GATEWAY else GroundSegment.starlink_pops(network)
    return GroundSegment.from_file(resolve_path(spec, base), kind=kind)


def build_ground(scn: Scenario, base: Path | None, policy) -> tuple[GroundSegment, GroundSegment]:
    """The gateways and PoPs traffic may use: the scenario's, after ``gateway_countries``,
    ``gateway_exclude`` and the service policy."""
    gateways = _ground_file(scn.ground.gateways, SiteKind.GATEWAY, base)
    pops = _ground_file(scn.ground.pops, SiteKind.POP, base)
    if scn.ground.gateway_countries:
        keep = {cc.upper() for cc in scn.ground.gateway_countries}
        gateways = GroundSegment.from_sites([g for g in gateways if (g.country or "").upper() in keep])
        if len(gateways) == 0:
            raise ScenarioError(
                f"ground.gateway_countries = {scn.ground.gateway_countries!r} leaves no gateway; "
                "expected countries that have gateways in ground.gateways"
            )
    if scn.ground.gateway_exclude:
        drop = {cc.upper() for cc in scn.ground.gateway_exclude}
        gateways = GroundSegment.from_sites([g for g in gateways if (g.country or "").upper() not in drop])
        if len(gateways) == 0:
            raise ScenarioError(f"ground.gateway_exclude = {scn.ground.gateway_exclude!r} leaves no gateway; "
                                "expected at least one gateway outside those countries")
    if scn.policy is not None:
        from leosim.models.policy import allowed_ground

        n_gw, n_pop = len(gateways), len(pops)
        gateways, pops = allowed_ground(policy, gateways, pops)
        if len(pops) == 0 and n_pop and scn.traffic.destination != "none" and scn.ground.terminals:
            raise ScenarioError(
                f"policy {policy.name!r} allows none of the {n_pop} PoPs, but traffic.destination = "
                f"{scn.traffic.destination!r} needs one; expected a policy whose pop_countries include a country with a PoP"
            )
        if len(gateways) == 0 and n_gw:
            raise ScenarioError(
                f"policy {policy.name!r} allows none of the {n_gw} gateways; expected a policy whose "
                "gateway_countries include a country with a gateway"
            )
    return gateways, pops


def _load_policy(scn: Scenario, base: Path | None):
    """The scenario's service policy; the ``all`` preset when only [jamming] is given (a
    jammed terminal is denied by the operator's location check, whatever the policy)."""
    spec = scn.policy
    if spec is None or spec.preset is not None:
        return load_policy("all" if spec is None else spec.preset)
    try:
        return load_policy(resolve_path(spec.file, base))
    except LeosimError as exc:
        raise ScenarioError(f"policy.file = {spec.file!r}: {exc}") from None


def build_plan(scn: Scenario, source: Path | None = None, *, max_bytes: float | None = None,
               check_size: bool = True, workers: int | None = None, command: str = "leosim run",
               fix: str | None = None) -> Plan:
    """Resolve every name and file of a scenario and build its sections; nothing is solved yet.

    A scenario whose run would write or hold more than ``max_bytes`` (default
    :data:`~leosim.engine.size.DEFAULT_MAX_BYTES`) is refused with its size estimate
    before anything is loaded (and again with the real pair count before any section is
    built); ``check_size=False`` skips that (the viewer, which routes one step at a time).
    ``command`` and ``fix`` name the command in that refusal and what to change
    (default: the scenario's ``time.step`` and ``time.duration``).
    """
    from leosim.scenario.sections import SECTIONS

    if check_size:
        scenario_size(scn, workers=workers, command=command).check(max_bytes, fix=fix or size_fix(scn))
    c = build_constellation(scn, source)
    start = c.epoch if scn.time.start == "epoch" else parse_time(scn.time.start)
    grid = TimeGrid.from_duration(start, scn.time.duration, scn.time.step)
    terminals = build_terminals(scn, source)
    policy = _load_policy(scn, source) if (scn.policy is not None or scn.jamming is not None) else None
    gateways, pops = build_ground(scn, source, policy)
    r = scn.routing
    links = LinkOptions(
        min_elevation_deg=r.min_elevation_deg, gateway_min_elevation_deg=r.min_elevation_deg,
        max_isl_length_m=None if r.max_isl_length_km is None else r.max_isl_length_km * 1e3, fibre_stretch=r.fibre_stretch,
    )
    mode = routing_mode(r.mode)

    endpoints: list[Site] = list(terminals)
    index = {s.name.lower(): i for i, s in enumerate(endpoints)}
    pairs, kinds = [], []
    to_pop = scn.traffic.destination in ("home-pop", "nearest-pop")
    if to_pop and terminals:
        if len(pops) == 0:
            raise ScenarioError(f"traffic.destination = {scn.traffic.destination!r} needs PoPs, but ground.pops = 'none'; expected PoPs")
        d = great_circle_m(
            np.array([s.latitude_deg for s in terminals])[:, None], np.array([s.longitude_deg for s in terminals])[:, None],
            pops.latitude_deg[None, :], pops.longitude_deg[None, :],
        )
        chosen = np.argmin(d, axis=1)
        if scn.traffic.destination == "home-pop":
            home = home_pop_index(GroundSegment.from_sites(terminals), pops)
            chosen = np.where(home >= 0, home, chosen)
        for i, j in enumerate(chosen):
            p = pops[int(j)]
            key = f"pop {p.name}".lower()
            if key not in index:
                index[key] = len(endpoints)
                endpoints.append(Site(f"PoP {p.name}", p.latitude_deg, p.longitude_deg, 0.0, SiteKind.SERVER, p.country))
            pairs.append((i, index[key]))
            kinds.append("to-pop")

    def endpoint(text: str) -> int:
        key = text.lower()
        if key in index:
            return index[key]
        site = resolve_endpoint(text)
        if site.kind is not SiteKind.SERVER and site.name.lower() in index:
            return index[site.name.lower()]
        index[key] = len(endpoints)
        endpoints.append(site)
        return index[key]

    for a, b in scn.traffic.pairs:
        pairs.append((endpoint(a), endpoint(b)))
        kinds.append("pair")
    analyses = [k for k in ("policy", "jamming", "exposure", "capacity", "latency") if getattr(scn, k) is not None]
    if not pairs and not analyses:
        raise ScenarioError("the scenario routes nothing: traffic.destination = 'none' and traffic.pairs is empty; "
                            "expected terminals to route or a [capacity], [policy], [jamming], [exposure] or [latency] section")
    size = scenario_size(scn, len(pairs), len(terminals), workers=workers, command=command)
    if check_size:
        size.check(max_bytes, fix=fix or size_fix(scn))
    network = None
    if pairs:
        ground = GroundSegment.from_sites(endpoints)
        # a terminal's traffic leaves at the PoP its destination stands at (home or nearest)
        endpoint_pop = np.full(len(endpoints), -1, dtype=np.int64)
        if to_pop and terminals:
            endpoint_pop[: len(terminals)] = chosen
        network = build_network(c, ground, routing=mode, attach=r.attach, links=links, gateways=gateways, pops=pops,
                                pop_selection="home" if scn.traffic.destination != "nearest-pop" else "nearest",
                                endpoint_pop=endpoint_pop if scn.traffic.destination == "home-pop" else None)
    pairs_arr = np.array(pairs, dtype=np.int64).reshape(-1, 2)
    labels = [f"{endpoints[i].name} -> {'internet:' if endpoints[j].kind is SiteKind.SERVER else ''}{endpoints[j].name}"
              for i, j in pairs]
    regions = [continent_of(endpoints[i].country) for i, _ in pairs]
    plan = Plan(scn, source, c, grid, links, mode, terminals, gateways, pops, network, pairs_arr, kinds, regions, labels,
                policy, size=size)
    for section in SECTIONS:
        spec = getattr(scn, section.key, None) if section.key else None
        if section.wanted(scn):
            plan.sections[section.name] = section.build(spec, plan)
    return plan


__all__ = ["Plan", "build_constellation", "build_ground", "build_plan", "build_terminals", "on_land", "scenario_size",
           "size_fix", "snap_to_land"]
