"""Admission: the ``[policy]`` section (and the operator's location check under ``[jamming]``).

Decides, with Starlink's disablement codes, which terminal is served at each step; every
later part of a run follows it: routing carries nothing for a terminal that is not
admitted, capacity serves no cell whose terminals are refused, and a terminal that is not
served does not transmit, so no sensor can locate it. GPS jamming feeds it
(``UNKNOWN_LOCATION``). ``data.admit(lat, lon, times)`` applies the same policy and
jamming to any points (capacity's cells). Writes ``admission.csv`` and, with a
``[policy]``, ``jurisdictions.csv`` (where the traffic lands and exits at the first step).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from leosim.models.policy import Admission, Disablement, Terminal, admit, jurisdictions
from leosim.scenario.schema import lat_lon
from leosim.scenario.sections.base import SectionResult, table


@dataclass
class AdmissionData:
    admission: Admission              # over the run's steps, terminals only
    terminal_index: np.ndarray        # endpoint index of each terminal
    admit: object                     # admit(lat, lon, times) -> (n_times, n_points) codes
    people: np.ndarray                # people in each terminal's cell (share-of-people weights)

    @property
    def admitted(self) -> np.ndarray:
        return self.admission.admitted


def terminals_of(plan) -> list[Terminal]:
    """The scenario's terminals as accounts: the ``[policy]`` section's plan, service
    address, days abroad and ids (default: their names)."""
    spec = plan.scenario.policy
    home = spec.home_country if spec is not None else None
    ids = spec.terminal_ids if spec is not None and spec.terminal_ids else None
    kw = {}
    if spec is not None:
        kw = {"plan": spec.plan, "days_abroad": spec.days_abroad,
              "service_address": lat_lon(spec.service_address, "service_address") if spec.service_address else None}
    return [Terminal(ids[k] if ids and k < len(ids) else s.name, home_country=home, **kw)
            for k, s in enumerate(plan.terminals)]


class AdmissionSection:
    name = "admission"
    key = "policy"

    def wanted(self, scenario) -> bool:
        return scenario.policy is not None or scenario.jamming is not None

    def build(self, spec, plan):
        return terminals_of(plan)

    def run(self, terms: list[Terminal], plan, upstream, context) -> SectionResult:
        from leosim.ground.countries import country_of

        spec = plan.scenario.policy
        jam = upstream.get("jamming")
        no_gps = spec is not None and spec.no_gps
        speed = None if spec is None or spec.speed_kmh is None else spec.speed_kmh

        def points(lat, lon, times, accounts=None) -> Admission:
            lat, lon = np.asarray(lat, float), np.asarray(lon, float)
            known = jam.data.known(lat, lon, times) if jam is not None else None
            if no_gps:
                known = np.zeros((len(times), len(lat)), bool)
            accounts = accounts or [Terminal(f"point-{k}") for k in range(len(lat))]
            sp = None if speed is None else np.full((len(times), len(lat)), speed)
            return admit(plan.policy, accounts, times, lat, lon, location_known=known, speed_kmh=sp)

        lat, lon = plan.terminal_position
        times = plan.grid.times
        adm = points(lat, lon, times, terms)
        people = _people(lat, lon, adm.country[0] if len(times) else None)
        where = country_of(lat, lon) if len(lat) else np.zeros(0, "<U4")
        ok = adm.admitted
        rows = []
        for n, s in enumerate(plan.terminals):
            denied = np.flatnonzero(~ok[:, n])
            k = int(denied[0]) if len(denied) else None
            rows.append({
                "terminal": s.name, "latitude_deg": round(float(lat[n]), 5), "longitude_deg": round(float(lon[n]), 5),
                "country": str(where[n]), "home_country": adm.home_country[n] or "",
                "code_at_start": str(adm.codes[0, n]), "admitted_share": round(float(ok[:, n].mean()), 4),
                "first_denied_s": "" if k is None else round(float(plan.grid.offsets_s[k]), 3),
                "first_denied_code": "" if k is None else str(adm.codes[k, n]),
                "reason": adm.reason(0, n) if adm.codes[0, n] != Disablement.OKAY.value or k is None else adm.reason(k, n),
                "people": round(float(people[n])),
            })
        codes, counts = np.unique(adm.codes[0], return_counts=True)
        w = people if people.sum() > 0 else np.ones(len(people))
        summary = {
            "policy": plan.policy.name, "terminals": int(ok.shape[1]),
            "admitted_at_start": int(ok[0].sum()) if len(ok) else 0,
            "admitted_throughout": int(ok.all(axis=0).sum()),
            "terminal_steps_admitted": round(float(ok.mean()), 4) if ok.size else 0.0,
            "people_steps_admitted": round(float((ok * w[None, :]).sum() / (w.sum() * len(ok))), 4) if ok.size else 0.0,
            "codes_at_start": {str(c): int(m) for c, m in zip(codes, counts)},
        }
        tables = {"admission": table("admission", rows)}
        data = AdmissionData(adm, plan.terminal_index, lambda la, lo, t: points(la, lo, t).codes, people)
        if spec is not None and plan.network is not None and len(plan.pairs):
            tables["jurisdictions"] = table("jurisdictions", _jurisdictions(plan, ok))
        return SectionResult(self.name, tables, {"admission": summary}, data)


def _people(lat, lon, countries) -> np.ndarray:
    """People in each terminal's H3 resolution-5 cell (its country's GeoNames population)."""
    from leosim.ground.population import population_at

    out = np.zeros(len(lat))
    if countries is None:
        return out
    for cc in sorted(set(str(c) for c in countries) - {"", "none"}):
        sel = np.array([str(c) == cc for c in countries])
        try:
            out[sel] = population_at(lat[sel], lon[sel], cc)
        except Exception:  # noqa: BLE001 -- a country GeoNames does not know: weight 0
            pass
    return out


def _jurisdictions(plan, admitted: np.ndarray) -> list[dict]:
    """Where each pair's traffic lands (gateway country) and exits (PoP country) at the first step."""
    net = plan.network
    res = net.solve(plan.grid.times[:1], plan.pairs, want_paths=True, step_s=plan.grid.step_s)
    ok = np.ones(len(net.endpoints), dtype=bool)
    ok[plan.terminal_index] = admitted[0]
    rows = []
    for k, j in enumerate(jurisdictions(net, res.paths)[0]):
        a, b = plan.pairs[k]
        served = bool(ok[a] and ok[b])
        rows.append({
            "pair": plan.labels[k], "kind": plan.pair_kind[k], "admitted_at_start": served,
            "gateway": (j.gateway or "") if served else "", "gateway_country": (j.gateway_country or "") if served else "",
            "pop": (j.pop or "") if served else "", "pop_country": (j.pop_country or "") if served else "",
            "countries": " > ".join(j.countries) if served else "",
        })
    return rows


__all__ = ["AdmissionData", "AdmissionSection", "terminals_of"]
