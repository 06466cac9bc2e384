"""Registries of pluggable parts with parameters: ``name`` or ``name:key=value,key=value``.

Attachment policies, routing modes and sensor layouts are small objects with one
protocol each; a :class:`Registry` maps their names to constructors and says which
parameters each takes, with a parser and a default for every parameter. The same text
selects and configures a part on the command line and in a scenario file::

    scheduled                         the defaults
    scheduled:interval=15s,offset=12s keyword parameters
    ring:6:3                          positional parameters, in the order they are declared

The scenario schema's allowed values and the CLI's help text come from the registries,
so a new part is registered once and appears everywhere.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from leosim.errors import ParameterError


@dataclass(frozen=True)
class Param:
    """One parameter of a registered part: its name, how to read it from text, its default
    (``None``: required) and a few words of help with the unit."""

    name: str
    parse: Callable[[str], Any]
    default: Any = None
    help: str = ""

    @property
    def required(self) -> bool:
        return self.default is None


@dataclass(frozen=True)
class Entry:
    name: str
    factory: Callable[..., Any]
    params: tuple[Param, ...] = ()
    help: str = ""

    def usage(self) -> str:
        if not self.params:
            return self.name
        return self.name + ":" + ",".join(f"{p.name}={'...' if p.required else _show(p.default)}" for p in self.params)


def _cut(text: str, limit: int = 80) -> str:
    """``text`` (a repr) cut to ``limit`` characters, saying how long it was."""
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text):,} characters)"


def _show(v: Any) -> str:
    return f"{v:g}" if isinstance(v, float) else str(v)


@dataclass
class Registry:
    """Named parts of one kind (``kind`` names it in messages: "attachment policy")."""

    kind: str
    error: type[ParameterError] = ParameterError
    _entries: dict[str, Entry] = field(default_factory=dict)

    def register(self, name: str, factory: Callable[..., Any], params: tuple[Param, ...] = (), help: str = "") -> None:
        if name in self._entries:
            raise ValueError(f"{self.kind} {name!r} is registered twice")
        self._entries[name] = Entry(name, factory, tuple(params), help)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def entry(self, name: str) -> Entry:
        try:
            return self._entries[name]
        except KeyError:
            raise self.error(f"unknown {self.kind} {_cut(repr(name))}; expected one of: {', '.join(self._entries)}") from None

    def parse(self, spec: str) -> tuple[Entry, dict[str, Any]]:
        """The entry and its parameter values (defaults filled in) for ``name[:params]``."""
        text = str(spec).strip()
        name, _, rest = text.partition(":")
        entry = self.entry(name.strip().lower())
        raw: dict[str, str] = {}
        parts = [p.strip() for p in rest.split(":" if "=" not in rest else ",")] if rest.strip() else []
        where = f"{self.kind} {_cut(repr(text))}"
        for k, part in enumerate(parts):
            if "=" in part:
                key, _, value = part.partition("=")
                key = key.strip().lower().replace("-", "_")
                if key not in {p.name for p in entry.params}:
                    known = ", ".join(p.name for p in entry.params) or "none"
                    raise self.error(f"{where}: unknown parameter {_cut(repr(key))}; expected {known} ({entry.usage()})")
                if key in raw:
                    raise self.error(f"{where}: parameter {key!r} is given twice; expected each once ({entry.usage()})")
                raw[key] = value.strip()
            else:
                if k >= len(entry.params):
                    raise self.error(
                        f"{where}: {len(parts)} values for {len(entry.params)} parameters; expected {entry.usage()}"
                    )
                raw[entry.params[k].name] = part
        values: dict[str, Any] = {}
        for p in entry.params:
            if p.name not in raw:
                if p.required:
                    raise self.error(f"{where}: parameter {p.name!r} is missing; expected {entry.usage()}")
                values[p.name] = p.default
                continue
            try:
                values[p.name] = p.parse(raw[p.name])
            except (ParameterError, ValueError, ArithmeticError) as exc:
                why = _cut(str(exc), 300) if isinstance(exc, ParameterError) else f"expected {p.help or 'a valid value'}"
                raise self.error(f"{where}: {p.name} = {_cut(repr(raw[p.name]))} is not valid: {why}") from None
        return entry, values

    def make(self, spec: str) -> Any:
        """The part ``spec`` names, built with its parameters."""
        entry, values = self.parse(spec)
        try:
            return entry.factory(**values)
        except ParameterError as exc:
            raise type(exc)(f"{self.kind} {_cut(repr(str(spec).strip()))}: {exc}") from None

    def check(self, spec: str) -> str:
        """``spec`` unchanged when it names a valid part; :class:`ParameterError` otherwise."""
        self.make(spec)
        return spec

    def help(self) -> str:
        """One line per part: ``usage: help``, for CLI help and error messages."""
        return "; ".join(f"{e.usage()}: {e.help}" if e.help else e.usage() for e in self._entries.values())


#: A decimal number as the registries read it: ASCII digits, an optional fraction and
#: exponent (no ``inf``, ``nan``, ``1_000`` or digits of other scripts, which ``float``
#: would take), at most 40 characters.
_NUMBER = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]{1,3})?")
_MAX_NUMBER_CHARS = 40
#: The largest whole number a parameter may be (sizes are capped far below by each part).
_MAX_WHOLE = 10**15


def number(text: str) -> float:
    """A finite float from text (``"2.5"``, ``"-1e3"``); ValueError otherwise."""
    t = str(text).strip()
    if len(t) > _MAX_NUMBER_CHARS or not _NUMBER.fullmatch(t):
        raise ValueError(t[:_MAX_NUMBER_CHARS])
    v = float(t)
    if not math.isfinite(v):
        raise ValueError(t)
    return v


def whole(text: str) -> int:
    """A whole number from text (``"6"``; ``"6.0"`` too); ValueError otherwise, and for
    magnitudes over 10**15 (so ``int()`` never meets an infinity or a huge float)."""
    v = number(text)
    if abs(v) > _MAX_WHOLE or v != int(v):
        raise ValueError(text)
    return int(v)


def flag(text: str) -> bool:
    """yes/no, true/false, on/off, 1/0."""
    t = text.strip().lower()
    if t in ("yes", "true", "on", "1"):
        return True
    if t in ("no", "false", "off", "0"):
        return False
    raise ValueError(text)


__all__ = ["Entry", "Param", "Registry", "flag", "number", "whole"]
