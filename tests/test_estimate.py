"""``leosim pairs`` and ``leosim run`` say, before they start, how big the run is and how
long routing it will take (timed from a probe of its first steps): one line on stderr."""

from __future__ import annotations

import re
import subprocess
import sys
import time

import numpy as np
import pytest

from leosim.core.time import TimeGrid
from leosim.engine.chunks import PROBE_STEPS, estimate_runtime, iter_chunks
from leosim.engine.size import estimate, format_duration
from leosim.ground.sites import GroundSegment
from leosim.network.builder import build_network
from leosim.space.constellation import Constellation

START = "2026-05-13T00:00:00Z"
LINE = re.compile(r"estimate: (?P<size>.+ of memory); (?P<routing>routing )?about (?P<time>.+?) on (?P<workers>\d+) "
                  r"workers? \(from a (?P<probe>\d+)-step probe: (?P<step>.+?) a step\)(?P<rest>.*)")
SCENARIO = f"""
name = "thirty cities"
seed = 1
[constellation]
preset = "starlink-shell1"
[time]
start = "{START}"
duration = "10min"
step = "1s"
[ground]
gateways = "starlink"
pops = "starlink"
[[ground.terminals]]
cities = 30
[routing]
mode = "isl"
attach = "scheduled"
[traffic]
destination = "nearest-pop"
[outputs]
report = false
"""


def seconds(text: str) -> float:
    """The seconds in what :func:`format_duration` writes (``1 min 40 s``, ``2.1 ms``)."""
    units = {"ms": 1e-3, "s": 1, "min": 60, "h": 3600, "d": 86400}
    words = text.replace(",", "").split()
    assert len(words) % 2 == 0 and words, text
    return sum(float(v) * units[u] for v, u in zip(words[::2], words[1::2]))


def timed_leosim(*args) -> tuple[subprocess.CompletedProcess, str, float]:
    """Run leosim; its stderr, stdout, the estimate line, and the seconds from when that
    line was printed until the command was done (the routing, and the little after it)."""
    line, seen, t_line = None, [], None
    with subprocess.Popen([sys.executable, "-m", "leosim", *map(str, args)], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True) as p:
        for text in p.stderr:  # stdout is small (a table): it fits the pipe while stderr is read
            seen.append(text)
            if text.startswith("estimate: ") and line is None:
                line, t_line = text.rstrip("\n"), time.perf_counter()
        out = p.stdout.read()
        p.wait(timeout=300)
    done = time.perf_counter()
    result = subprocess.CompletedProcess(args, p.returncode, out, "".join(seen))
    assert p.returncode == 0, result.stderr[-3000:]
    assert line is not None, result.stderr[-3000:]
    return result, line, done - t_line


def test_format_duration():
    assert [format_duration(s) for s in (0.0021, 0.21, 4.24, 42, 100, 3600, 7500, 90061)] == [
        "2.1 ms", "0.21 s", "4.2 s", "42 s", "1 min 40 s", "1 h", "2 h 5 min", "1 d 1 h"]
    for s in (0.0021, 0.21, 4.25, 100, 7500, 90000):  # reads back to within its rounding
        assert seconds(format_duration(s)) == pytest.approx(s, rel=0.03)


# The estimate extrapolates from a 3-step probe and does not count writing the store,
# handing results back, starting the pool or (for run) the sections after routing, and
# the probe's per-call overhead is spread over two steps only; a test machine may also
# be loaded unevenly while the probe and the run go. What it must get right is the order
# of magnitude a user plans by: a factor of 5 either way (unloaded, the two agree within
# 1.5x here; timing the cold first step as a steady one makes it 10x to 30x too long, a
# wrong unit 1000x). The arithmetic of chunks and workers, which a factor of 5 would not
# catch (2 workers are 2x), is held exactly by the last test.
FACTOR = 5


def test_pairs_prints_its_estimate_before_routing(tmp_path):
    """600 steps x 435 pairs on 2 workers: a few seconds of routing."""
    p, line, actual_s = timed_leosim("pairs", "--ground-stations", "cities-30", "-c", "starlink-shell1", "--start", START,
                                     "--duration", "10min", "--step", "1s", "--workers", "2",
                                     "--output", tmp_path / "r.zarr")
    m = LINE.fullmatch(line)
    assert m, line
    assert p.stdout == ""  # pairs writes nothing on stdout, the estimate included
    assert p.stderr.index("estimate: ") < p.stderr.index("routing: ") < p.stderr.index("wrote ")
    # the size part is the same estimate that the size check refuses by
    assert m["size"] == estimate("leosim pairs", 600, 435, workers=2, chunk_steps=75).describe()
    assert m["workers"] == "2" and m["probe"] == str(PROBE_STEPS) and m["rest"] == ""
    est = seconds(m["time"])
    assert 0 < seconds(m["step"]) < est
    assert actual_s / FACTOR < est < actual_s * FACTOR, (line, actual_s)


def test_run_prints_its_estimate_before_routing(tmp_path):
    """A scenario of 30 cities to their nearest PoP, 600 steps on 2 workers."""
    from leosim.scenario.load import load_scenario
    from leosim.scenario.plan import build_plan

    f = tmp_path / "s.toml"
    f.write_text(SCENARIO)
    p, line, actual_s = timed_leosim("run", f, "-o", tmp_path / "out", "--workers", "2")
    m = LINE.fullmatch(line)
    assert m and m["routing"], line
    assert "estimate: " not in p.stdout and p.stdout.splitlines()[-1].startswith(f"wrote {tmp_path / 'out'}/: ")
    assert p.stderr.index("estimate: ") < p.stderr.index("600/600 steps")
    scn, _, path = load_scenario(str(f))
    assert m["size"] == build_plan(scn, path, workers=2).size.describe()
    assert m["workers"] == "2" and m["rest"] == ""  # no section besides the traffic: nothing left untimed
    assert actual_s / FACTOR < seconds(m["time"]) < actual_s * FACTOR, (line, actual_s)


def test_a_run_shorter_than_the_probe_is_not_timed(tmp_path):
    p, line, _ = timed_leosim("pairs", "--ground-stations", "cities-6", "-c", "starlink-shell1", "--start", START,
                              "--duration", "2s", "--step", "1s", "--workers", "1", "--output", tmp_path / "r.zarr")
    assert line == (f"estimate: {estimate('leosim pairs', 2, 15, workers=1, chunk_steps=1).describe()}; a short run (2 steps, "
                    f"fewer than the {PROBE_STEPS}-step probe): not timed")


@pytest.fixture(scope="module")
def small():
    c = Constellation.walker(550, 53, 12, 16, phasing=1)
    seg = GroundSegment.preset("cities-6")
    grid = TimeGrid.from_duration(START, 40, 1)
    i, j = np.triu_indices(len(seg), k=1)
    return c, seg, grid, np.stack([i, j], axis=1)


def test_the_probe_changes_no_result(small):
    c, seg, grid, pairs = small

    def rtts(net):
        return np.concatenate([ch.rtt_s for ch in iter_chunks(net, grid, pairs, chunk_steps=10)])

    probed = build_network(c, seg)
    took = estimate_runtime(probed, grid, pairs, chunk_steps=10)
    assert took.probe_steps == PROBE_STEPS and took.seconds > 0 and took.n_steps == 40
    np.testing.assert_array_equal(rtts(probed), rtts(build_network(c, seg)))


def test_the_estimate_counts_the_chunks_left_and_the_workers(small):
    c, seg, grid, pairs = small
    net = build_network(c, seg)
    left = estimate_runtime(net, grid, pairs, chunk_steps=10, skip={0, 10})
    assert left.n_steps == 20 and left.workers == 1
    # two chunks of 10 steps, each also solving the step before its first
    assert left.seconds == pytest.approx(22 * left.step_s)
    two = estimate_runtime(net, grid, pairs, chunk_steps=10, workers=2)
    # chunks 0 and 2 on one worker (10 + 11 steps), 1 and 3 on the other (11 + 11)
    assert two.workers == 2 and two.seconds == pytest.approx(22 * two.step_s)
    assert estimate_runtime(net, grid, pairs, chunk_steps=10, workers=8).workers == 4  # only 4 chunks
    done = estimate_runtime(net, grid, pairs, chunk_steps=10, skip={0, 10, 20, 30})
    assert done.n_steps == 0 and done.describe() == "nothing left to route"
