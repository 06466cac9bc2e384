"""Routing modes: how traffic may cross the network (laser links, bent pipe, both).

A mode is a small value object; :data:`MODES` registers them by name, so the command
line, the scenario schema and the sweep all read ``--routing isl`` the same way.
"""

from __future__ import annotations

from dataclasses import dataclass

from leosim.core.registry import Registry


@dataclass(frozen=True)
class RoutingMode:
    """How traffic may cross the network.

    ``isl``: laser links between satellites are used. ``gateway_relay``: a gateway may
    take traffic down from one satellite and straight up to another. ``fibre_relay``:
    traffic landed at a gateway may ride terrestrial fibre to another gateway and go
    back up (bent-pipe relaying).
    """

    name: str
    isl: bool
    gateway_relay: bool
    fibre_relay: bool

    @property
    def spec(self) -> str:
        return self.name


ISL = RoutingMode("isl", isl=True, gateway_relay=False, fibre_relay=False)
BENT_PIPE = RoutingMode("bent-pipe", isl=False, gateway_relay=False, fibre_relay=True)
HYBRID = RoutingMode("hybrid", isl=True, gateway_relay=True, fibre_relay=True)

MODES = Registry("routing mode")
MODES.register("isl", lambda: ISL, help="laser links between satellites; ground stations never relay")
MODES.register("bent-pipe", lambda: BENT_PIPE, help="one satellite hop to a gateway, then fibre (relays over fibre)")
MODES.register("hybrid", lambda: HYBRID, help="laser links and bent pipe; gateways may relay")
#: The modes by name.
ROUTING_MODES = {m.name: m for m in (ISL, BENT_PIPE, HYBRID)}


def routing_mode(spec: str) -> RoutingMode:
    """The routing mode called ``spec`` (see :data:`MODES`)."""
    return MODES.make(spec)


__all__ = ["BENT_PIPE", "HYBRID", "ISL", "MODES", "ROUTING_MODES", "RoutingMode", "routing_mode"]
