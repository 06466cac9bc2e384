"""Turning what a scenario or a command names into objects: a service policy (a preset or a
file), jammers and sensors (files, or sensor layouts anchored in the world).

The scenario plan and the commands both call these, so ``--policy FILE`` and
``[policy] file = "FILE"`` read the same file the same way; the readers live in
:mod:`leosim.formats`, the objects in :mod:`leosim.models`.
"""

from __future__ import annotations

import os
from pathlib import Path

from leosim.errors import SensorError
from leosim.formats.jammers import read_jammer_file
from leosim.formats.policy import read_policy_file
from leosim.formats.sensors import read_sensor_file
from leosim.formats.text import path_exists, shown
from leosim.models.exposure import SENSOR_LAYOUTS, Sensor, is_layout, sensor_layout
from leosim.models.jamming import Jammer
from leosim.models.policy import ServicePolicy


def resolve_path(path: str | os.PathLike[str], base: Path | None) -> Path:
    """``path`` as given when absolute or without a scenario file; else relative to it."""
    p = Path(path)
    return p if p.is_absolute() or base is None else (base.parent / p)


def load_policy(spec: str | os.PathLike[str] | None) -> ServicePolicy:
    """A preset (``all``, the default, or ``none``) or a policy file (``.toml``/``.csv``)."""
    if spec is None:
        return ServicePolicy.preset("all")
    text = str(spec).strip()
    if text.lower() in ("all", "none") and not path_exists(text):
        return ServicePolicy.preset(text)
    return ServicePolicy.from_document(read_policy_file(spec))


def load_jammers(path: str | os.PathLike[str]) -> tuple[Jammer, ...]:
    """Jammers from a CSV or TOML file (see :mod:`leosim.formats.jammers`)."""
    return tuple(Jammer.from_record(r) for r in read_jammer_file(path))


def load_sensors(spec: str | os.PathLike[str], anchor: tuple[float, float], extent_m: float = 20e3) -> tuple[Sensor, ...]:
    """Sensors of a layout placed around ``anchor`` (lat, lon), or read from a file.

    Layouts (:data:`~leosim.models.exposure.SENSOR_LAYOUTS`): ``ring:N:RADIUS_KM[:HEIGHT_M]``,
    ``grid:SPACING_KM[:HEIGHT_M]`` over a square of side ``2 extent_m``,
    ``drone:RADIUS_KM:ALTITUDE_M[:SPEED_KMH]``; keyword parameters work too
    (``ring:n=6,radius_km=3``). A file's sensors stand where the file puts them.

    >>> [s.name for s in load_sensors("ring:3:2", (35.7, 51.4))]
    ['ring-1', 'ring-2', 'ring-3']
    """
    text = str(spec).strip()
    if is_layout(text) and not path_exists(text):
        return sensor_layout(text).place(anchor[0], anchor[1], extent_m)
    if not path_exists(text):
        raise SensorError(f"sensors {shown(text, 80)}: no such file and not a layout; expected a .csv or .toml file or "
                          f"{SENSOR_LAYOUTS.help()}")
    return tuple(Sensor.from_record(r) for r in read_sensor_file(text))


__all__ = ["load_jammers", "load_policy", "load_sensors", "resolve_path"]
