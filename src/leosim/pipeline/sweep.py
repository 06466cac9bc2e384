"""Parameter sweeps: a grid of scenario variants, each run, one summary table.

``--set constellation.shells[0].planes=60,72,84 --set routing.attach=free,scheduled``
makes the 6 combinations of a scenario; each is validated as a whole scenario (so a key
that does not exist, or a value of the wrong type, is refused before anything runs),
run into its own directory, and its headline numbers gathered into ``sweep.csv``.
"""

from __future__ import annotations

import csv
import io
import itertools
import re
import tomllib
import typing
from copy import deepcopy
from pathlib import Path

from pydantic import BaseModel

from leosim.errors import ScenarioError
from leosim.scenario.load import load_scenario, parse_scenario
from leosim.scenario.schema import Scenario

_PART = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)((?:\[\d+\])*)")


def parse_key(key: str) -> list[str | int]:
    """``"constellation.shells[0].planes"`` -> ``["constellation", "shells", 0, "planes"]``."""
    out: list[str | int] = []
    for part in key.split("."):
        m = _PART.fullmatch(part.strip())
        if not m:
            raise ScenarioError(f"--set key {key!r} is malformed at {part!r}; expected dotted names with [index], "
                                "e.g. constellation.shells[0].planes")
        out.append(m.group(1))
        out += [int(i) for i in re.findall(r"\[(\d+)\]", m.group(2))]
    return out


def _model_of(annotation):
    """The pydantic model inside an annotation (``X | None``, ``list[X]``), if any."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        inner = _model_of(arg)
        if inner is not None:
            return inner
    return None


def check_key(path: list[str | int], key: str) -> None:
    """Refuse a key the scenario schema does not have, naming the keys it does have."""
    model: type[BaseModel] | None = Scenario
    for part in path:
        if isinstance(part, int):
            continue
        if model is None or part not in model.model_fields:
            known = ", ".join(sorted(model.model_fields)) if model is not None else "(none: it is a value)"
            raise ScenarioError(f"--set key {key!r}: {part!r} does not exist in the scenario schema here; expected one of {known}")
        model = _model_of(model.model_fields[part].annotation)


def parse_values(text: str) -> list:
    """Comma-separated TOML literals; a bare word is a string (``free,scheduled``)."""
    values = []
    for raw in _split_top(text):
        raw = raw.strip()
        try:
            values.append(tomllib.loads(f"v = {raw}")["v"])
        except tomllib.TOMLDecodeError:
            values.append(raw)
    if not values:
        raise ScenarioError(f"--set has no values after '=': {text!r}; expected e.g. planes=60,72,84")
    return values


def _split_top(text: str) -> list[str]:
    """Split on commas outside brackets and quotes."""
    parts, depth, quote, cur = [], 0, None, ""
    for ch in text:
        if quote:
            quote = None if ch == quote else quote
        elif ch in "\"'":
            quote = ch
        elif ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
            continue
        cur += ch
    parts.append(cur)
    return [p for p in parts if p.strip()]


def _assign(data: dict, path: list[str | int], value, key: str) -> None:
    node = data
    for i, part in enumerate(path[:-1]):
        nxt = path[i + 1]
        if isinstance(part, int):
            if not isinstance(node, list) or part >= len(node):
                raise ScenarioError(f"--set key {key!r}: index [{part}] is out of range; the scenario has "
                                    f"{len(node) if isinstance(node, list) else 0} there")
            node = node[part]
        else:
            if part not in node:
                node[part] = [] if isinstance(nxt, int) else {}
            node = node[part]
    last = path[-1]
    if isinstance(last, int):
        if not isinstance(node, list) or last >= len(node):
            raise ScenarioError(f"--set key {key!r}: index [{last}] is out of range")
        node[last] = value
    else:
        node[last] = value


def variants(text: str, source: str, sets: list[str]) -> list[tuple[dict[str, object], Scenario, str]]:
    """Every combination of ``--set KEY=V1,V2,...``: (the settings, the model, its TOML)."""
    import tomli_w

    base = tomllib.loads(text)
    axes = []
    for expr in sets:
        if "=" not in expr:
            raise ScenarioError(f"--set {expr!r} has no '='; expected KEY=VALUE[,VALUE...]")
        key, vals = expr.split("=", 1)
        key = key.strip()
        path = parse_key(key)
        check_key(path, key)
        axes.append((key, path, parse_values(vals)))
    out = []
    for combo in itertools.product(*[[(k, p, v) for v in vs] for k, p, vs in axes]):
        data = deepcopy(base)
        for key, path, value in combo:
            _assign(data, path, value, key)
        settings = {key: value for key, _, value in combo}
        label = ", ".join(f"{k}={v}" for k, v in settings.items()) or "base"
        variant_text = f"# variant of {source}: {label}\n" + tomli_w.dumps(data)
        out.append((settings, parse_scenario(variant_text, f"{source} with {label}"), variant_text))
    return out


def run_sweep(scenario: str, sets: list[str], out_dir: Path, *, overwrite: bool = False, workers=None,
              executor=None, seed=None, log=None) -> list[dict]:
    """Run every variant into ``out_dir/variant-NNN`` and write ``out_dir/sweep.csv``."""
    from leosim.pipeline.output import prepare_output
    from leosim.pipeline.run import run

    scn, text, path = load_scenario(scenario)
    plan = variants(text, str(path or scenario), sets)  # all validated before anything runs
    prepare_output(out_dir, overwrite)
    rows = []
    for k, (settings, variant, variant_text) in enumerate(plan):
        vdir = out_dir / f"variant-{k:03d}"
        if log:
            log(f"[{k + 1}/{len(plan)}] {', '.join(f'{a}={b}' for a, b in settings.items()) or 'base'}")
        kwargs = {"executor": executor} if executor is not None else {}
        summary = run(variant, variant_text, vdir, source=path, overwrite=True, seed=seed, workers=workers, **kwargs)
        row = {"variant": vdir.name, **{f"set:{a}": b for a, b in settings.items()}}
        row.update({k2: v for k2, v in summary.items() if isinstance(v, (int, float, str)) or v is None})
        rows.append(row)
    cols: list[str] = []
    for r in rows:
        cols += [c for c in r if c not in cols]
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=cols, lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    (out_dir / "sweep.csv").write_text(buf.getvalue())
    return rows
