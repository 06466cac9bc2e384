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
import math
import re
import tomllib
import typing
from copy import deepcopy
from pathlib import Path

from pydantic import BaseModel

from leosim.errors import ScenarioError
from leosim.scenario.load import load_scenario, parse_scenario
from leosim.scenario.schema import Scenario

#: A sweep of more variants than this is refused (a typo such as 1..5000 is not meant).
MAX_VARIANTS = 1000
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
        indices = re.findall(r"\[(\d+)\]", m.group(2))
        if any(len(i) > 6 for i in indices):  # no list of a scenario has a million items
            raise ScenarioError(f"--set key {key[:60]!r}... has an index of {max(len(i) for i in indices):,} digits; "
                                "expected a list index such as [0]")
        out += [int(i) for i in indices]
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
        except (ValueError, RecursionError) as exc:  # past Python's 4,300-digit int limit; brackets nested too deep
            shown = raw if len(raw) <= 40 else f"{raw[:40]}... ({len(raw):,} characters)"
            why = "nested too deeply" if isinstance(exc, RecursionError) else "an integer of more than 4,300 digits"
            raise ScenarioError(f"--set value {shown!r} is {why}; expected a number, a word or a short TOML list") from None
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


def _not_a_table(key: str, path: list[str | int], i: int, node) -> ScenarioError:
    where = _key_text(path[:i]) or "the scenario"
    return ScenarioError(f"--set key {key!r}: {where} is {_kind(node)} here, not a table; expected a key whose "
                         "parents are tables (another --set, or the scenario, gives it a value)")


def _kind(value) -> str:
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a table"
    return f"the value {value!r}"


def _key_text(path: list[str | int]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


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
            if not isinstance(node, dict):
                raise _not_a_table(key, path, i, node)
            if part not in node:
                node[part] = [] if isinstance(nxt, int) else {}
            node = node[part]
    last = path[-1]
    if isinstance(last, int):
        if not isinstance(node, list) or last >= len(node):
            raise ScenarioError(f"--set key {key!r}: index [{last}] is out of range")
        node[last] = value
    else:
        if not isinstance(node, dict):
            raise _not_a_table(key, path, len(path) - 1, node)
        node[last] = value


def _check_overlaps(axes: list[tuple[str, list[str | int], list]]) -> None:
    """Refuse two ``--set`` keys of which one is the other or lies inside it
    (``routing=free`` and ``routing.attach=free``): the variant would depend on their order."""
    for a, (key_a, path_a, _) in enumerate(axes):
        for key_b, path_b, _ in axes[a + 1:]:
            short, long_ = (path_a, path_b) if len(path_a) <= len(path_b) else (path_b, path_a)
            if long_[:len(short)] == short:
                raise ScenarioError(
                    f"--set {key_a!r} and --set {key_b!r} overlap ({_key_text(short)} is set by both); "
                    "expected each key once, and no key inside another set one"
                )


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
    _check_overlaps(axes)
    n = math.prod(len(vs) for _, _, vs in axes)
    if n > MAX_VARIANTS:
        counts = " x ".join(f"{len(vs):,} ({k})" for k, _, vs in axes)
        raise ScenarioError(f"--set makes {n:,} variants ({counts}); expected at most {MAX_VARIANTS:,} (fewer --set values)")
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


def check_sweep(scenario: str, sets: list[str], out_dir: Path, *, overwrite: bool = False, workers=None,
                max_bytes: float | None = None) -> list[tuple[dict[str, object], Scenario, str]]:
    """Every variant, validated and its size checked (each alone, and all of their output
    together, against ``max_bytes``), and the output directory checked, changing nothing."""
    from leosim.engine.size import SizeEstimate
    from leosim.pipeline.output import check_output
    from leosim.scenario.plan import scenario_size, size_fix

    scn, text, path = load_scenario(scenario)
    plan = variants(text, str(path or scenario), sets)  # all validated before anything runs
    sizes = [scenario_size(v, workers=workers).check(max_bytes, fix=size_fix(v)) for _, v, _ in plan]
    if len(sizes) > 1:
        SizeEstimate(f"leosim sweep ({len(sizes)} variants together)", sum(e.n_steps for e in sizes),
                     sum(e.n_pairs for e in sizes), sum(e.output_bytes for e in sizes),
                     max(e.memory_bytes for e in sizes), any(e.at_least for e in sizes)).check(
            max_bytes, fix=f"{size_fix(scn)}, or fewer --set values", available=None)
    check_output(out_dir, overwrite)
    return plan


def run_sweep(scenario: str, sets: list[str], out_dir: Path, *, overwrite: bool = False, workers=None,
              executor=None, seed=None, log=None, max_bytes: float | None = None) -> list[dict]:
    """Run every variant into ``out_dir/variant-NNN`` and write ``out_dir/sweep.csv``.

    Every variant is validated and its size checked before anything runs; Ctrl-C raises
    :class:`~leosim.pipeline.output.Interrupted` saying which variant it stopped in."""
    from leosim.pipeline.output import Interrupted, output_fault, prepare_output
    from leosim.pipeline.run import run

    _, _, path = load_scenario(scenario)
    plan = check_sweep(scenario, sets, out_dir, overwrite=overwrite, workers=workers, max_bytes=max_bytes)
    prepare_output(out_dir, overwrite)
    rows = []
    for k, (settings, variant, variant_text) in enumerate(plan):
        vdir = out_dir / f"variant-{k:03d}"
        if log:
            log(f"[{k + 1}/{len(plan)}] {', '.join(f'{a}={b}' for a, b in settings.items()) or 'base'}")
        kwargs = {"executor": executor} if executor is not None else {}
        try:
            summary = run(variant, variant_text, vdir, source=path, overwrite=True, seed=seed, workers=workers,
                          max_bytes=max_bytes, **kwargs)
        except Interrupted as exc:
            how_far = str(exc).split("; ", 1)[0].removeprefix("interrupted ")  # "after 12 of 60 steps"
            raise Interrupted(
                f"interrupted in variant {k + 1} of {len(plan)} ({vdir.name}) {how_far}; {k} variant"
                f"{'s' if k != 1 else ''} finished; {out_dir} is incomplete (no sweep.csv): run the sweep again "
                "with --overwrite"
            ) from None
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
    try:
        (out_dir / "sweep.csv").write_text(buf.getvalue())
    except OSError as exc:
        fault = output_fault(exc, out_dir, f"every variant ran, but {out_dir}/sweep.csv is not written",
                             "free space or fix permissions and run the sweep again with --overwrite")
        raise fault from None
    return rows
