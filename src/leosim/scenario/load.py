"""Scenario files: reading TOML text into a validated :class:`~leosim.scenario.schema.Scenario`.

Every mistake in a file is reported with the file, the key path
(``ground.terminals[2].country``), the line where it can be found, what was received and
what was expected; unknown keys are errors, so a typo is never silently ignored.

Built-in scenarios live in ``leosim/data/scenarios/*.toml``; ``leosim scenarios show
NAME`` prints one so it can be copied and edited.
"""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from leosim.errors import ScenarioError
from leosim.formats.text import path_exists, read_text, read_toml, shown
from leosim.scenario.schema import Scenario

_SCENARIO_DIR = "scenarios"


def builtin_scenarios() -> dict[str, str]:
    """Name -> one-line description of each shipped scenario."""
    out = {}
    for f in sorted(resources.files("leosim").joinpath("data", _SCENARIO_DIR).iterdir(), key=lambda p: p.name):
        if f.name.endswith(".toml"):
            text = f.read_text(encoding="utf-8")
            m = re.search(r'^description\s*=\s*"(.*)"\s*$', text, re.MULTILINE)
            out[f.name[:-5]] = m.group(1) if m else ""
    return out


def builtin_text(name: str) -> str:
    """The TOML text of a shipped scenario."""
    names = builtin_scenarios()
    if name not in names:
        import difflib

        close = difflib.get_close_matches(name, list(names), n=3) if len(name) <= 200 else []
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise ScenarioError(f"unknown scenario {shown(name, 80)}; expected one of {', '.join(names)} or a .toml file{hint}")
    return resources.files("leosim").joinpath("data", _SCENARIO_DIR, f"{name}.toml").read_text(encoding="utf-8")


def load_scenario(name_or_path: str | Path) -> tuple[Scenario, str, Path | None]:
    """A scenario by built-in name or file path: (model, its TOML text, its file or None)."""
    p = Path(name_or_path)
    if p.suffix.lower() == ".toml" or path_exists(p):
        text = read_text(p, expected="a scenario TOML file (leosim scenarios show global prints one)", error=ScenarioError,
                         what="scenario file", max_bytes=16 * 1024 * 1024)
        return parse_scenario(text, str(p)), text, p.resolve()
    text = builtin_text(str(name_or_path))
    return parse_scenario(text, f"<built-in {name_or_path}>"), text, None


def parse_scenario(text: str, source: str = "<string>") -> Scenario:
    """Validate TOML text into a :class:`Scenario`; errors name file, key path and line."""
    data = read_toml(text, source, expected="a scenario (leosim scenarios show global prints one)", error=ScenarioError)
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(_explain(exc, text, source)) from None


def scenario_from_dict(data: dict, source: str = "<command line>") -> Scenario:
    """A scenario built in memory (what a command's options describe), validated like a file."""
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(_explain(exc, "", source)) from None


def _key_path(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif not str(part).startswith(("function-", "literal[", "constrained-", "union[")) and part not in ("list[str]",):
            out += ("." if out else "") + str(part)
    return out


_TABLE_HEADER = re.compile(r"^\s*\[\[?\s*[A-Za-z0-9_.\-]+\s*\]\]?\s*(#.*)?$")


def _find_line(loc: tuple[Any, ...], text: str) -> int | None:
    """Best-effort line number of a key path in TOML text (1-based).

    Handles ``[section]`` tables, ``[[section.array]]`` arrays of tables, and inline
    arrays (``jammers = [{...}, {...}]``, ``duty_cycles = [0.1, 2]``) inside a section.
    """
    keys = [str(k) for k in loc if not isinstance(k, int)]
    idx = [k for k in loc if isinstance(k, int)]
    lines = text.splitlines()
    start = 0

    def first(pattern: str, begin: int, nth: int = 0) -> int | None:
        rx, seen = re.compile(pattern), -1
        for i in range(begin, len(lines)):
            if i > begin and start and _TABLE_HEADER.match(lines[i]):
                return None  # the next table: the key is not in this one
            if rx.search(lines[i]):
                seen += 1
                if seen == nth:
                    return i
        return None

    array_header = None
    if len(keys) >= 2 and idx:  # [[a.b]] arrays of tables: the n-th header
        header = re.compile(r"^\s*\[\[\s*" + re.escape(".".join(keys[:2])) + r"\s*\]\]")
        seen = -1
        for i, line in enumerate(lines):
            if header.match(line):
                seen += 1
                if seen == idx[0]:
                    array_header = i
                    break
    if array_header is not None:
        start = array_header
    elif keys:
        header = re.compile(r"^\s*\[\s*" + re.escape(keys[0]) + r"\s*\]")
        for i, line in enumerate(lines):
            if header.match(line):
                start = i
                break
        if start and len(keys) >= 2 and idx:  # an inline array inside the table
            at = first(r"^\s*" + re.escape(keys[1]) + r"\s*=", start)
            if at is not None:
                if len(keys) == 2:
                    return at + 1
                hit = first(r"(^|[{,\s])" + re.escape(keys[-1]) + r"\s*=", at, idx[0])
                if hit is None:  # the key is missing: the n-th inline table instead
                    hit = first(r"\{", at, idx[0])
                return (hit if hit is not None else at) + 1
    if keys:
        hit = first(r"^\s*" + re.escape(keys[-1]) + r"\s*=", start)
        if hit is not None:
            return hit + 1
    return start + 1 if start else None


#: At most this many of a file's mistakes are explained (each costs a search of the text
#: for its line); the rest are counted. A list of 100,000 wrong values took minutes and
#: printed megabytes.
MAX_EXPLAINED = 10


def _explain(exc: ValidationError, text: str, source: str) -> str:
    msgs = []
    errors = exc.errors(include_url=False)
    for err in errors[:MAX_EXPLAINED]:
        loc = tuple(err["loc"])
        path = _key_path(loc) or "(top level)"
        line = _find_line(loc, text)
        where = f"{source}:{line}" if line else source
        kind = err["type"]
        if kind == "extra_forbidden":
            example = "iran-2022" if path.split(".")[0].split("[")[0] in ("policy", "jamming", "exposure", "capacity") else "global"
            msgs.append(f"{where}: unknown key {path!r}; check the spelling (leosim scenarios show {example} lists the keys)")
            continue
        if kind == "missing":
            msgs.append(f"{where}: {path} is missing; expected it to be given")
            continue
        received = err.get("input")
        msg = str(err["msg"]).removeprefix("Value error, ")[:400]
        if isinstance(received, dict):  # a whole table failed a check across its keys
            msgs.append(f"{where}: [{path}] is not valid: {msg}")
        else:
            msgs.append(f"{where}: {path} = {shown(received, 120)} is not valid: {msg}")
    more = len(errors) - MAX_EXPLAINED
    if more > 0:
        msgs.append(f"and {more:,} more mistake{'s' if more > 1 else ''} (fix these first)")
    return "; ".join(msgs)
