"""Faults a user meets, through the real CLI (``python -m leosim`` in a subprocess): runs
too big to be meant, Ctrl-C, a full disk, outputs that are not what they should be, and
``--set`` keys that collide. Each gives one line saying what happened (how far the run got,
how to finish it), no traceback and a non-zero exit, and loses nothing it should not.
"""

from __future__ import annotations

import json
import os
import re
import resource
import shlex
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

SCENARIO = """
name = "faults"
seed = 1
[constellation]
shells = [{altitude_km = 550, inclination_deg = 53, planes = 12, sats_per_plane = 16}]
[time]
start = "2026-05-13T00:00:00Z"
duration = "DURATION"
step = "STEP"
[ground]
gateways = "starlink"
pops = "starlink"
[[ground.terminals]]
places = ["London", "Madrid"]
[routing]
mode = "isl"
attach = "scheduled"
[traffic]
destination = "nearest-pop"
pairs = [["London", "Madrid"]]
[outputs]
report = false
"""
SITES = "0,Tokyo,35.6895,139.69171,0\n1,Seoul,37.566,126.9784,0\n2,Manila,14.6042,120.9822,0\n"
PAIRS = ["-c", "starlink-shell1", "--start", "2026-05-13T00:00:00Z", "--step", "1s"]


def scenario(tmp_path: Path, duration: str, step: str, name: str = "s.toml") -> Path:
    f = tmp_path / name
    f.write_text(SCENARIO.replace("DURATION", duration).replace("STEP", step))
    return f


def leosim(*args, ok=True, preexec_fn=None, timeout=300, cwd=None):
    p = subprocess.run([sys.executable, "-m", "leosim", *map(str, args)], capture_output=True, text=True,
                       timeout=timeout, preexec_fn=preexec_fn, cwd=cwd)
    if ok:
        assert p.returncode == 0, f"exit {p.returncode}\nstdout: {p.stdout[-2000:]}\nstderr: {p.stderr[-2000:]}"
    return p


def one_line_error(p, code: int = 1) -> str:
    """The error of a failed command: exit ``code``, no traceback, one or two lines on stderr."""
    assert p.returncode == code, f"exit {p.returncode}\nstderr: {p.stderr[-3000:]}"
    assert "Traceback" not in p.stderr + p.stdout
    errors = [line for line in p.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, p.stderr
    lines = p.stderr[p.stderr.index("error: "):].strip().splitlines()
    assert len(lines) <= 2, p.stderr
    return " ".join(lines)


def peak_rss_mb(args, cwd=None) -> tuple[subprocess.CompletedProcess, float]:
    """Run ``leosim *args`` under a fresh interpreter that reports the command's peak
    resident memory (RUSAGE_CHILDREN of that interpreter: the command alone)."""
    code = (
        "import json, resource, subprocess, sys; "
        f"r = subprocess.run([sys.executable, '-m', 'leosim', *{[str(a) for a in args]!r}], capture_output=True, text=True); "
        "print(json.dumps([r.returncode, r.stdout, r.stderr, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024]))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=True, cwd=cwd)
    rc, stdout, stderr, peak = json.loads(out.stdout)
    return subprocess.CompletedProcess(args, rc, stdout, stderr), peak


# ------------------------------------------------------------ too big to be meant
def test_ten_year_scenario_is_refused_with_its_size_before_allocating(tmp_path):
    """Ten years at 1 s: 315,360,000 steps x 3 pairs. Refused by run and validate with
    the estimate, at under 1.5 GB of peak memory, before the output directory exists (the
    issue measured 13.8 GB reached before the first step)."""
    ten = scenario(tmp_path, "3650d", "1s")
    out = tmp_path / "out"
    for args in (["run", ten, "-o", out], ["validate", ten]):
        p, peak = peak_rss_mb(args)
        msg = one_line_error(p)
        assert msg.startswith("error: leosim run would ")
        assert "315,360,000 steps x 3 pairs: about 26.1 GiB of output (uncompressed) and " in msg
        assert "a coarser time.step or a shorter time.duration" in msg
        assert peak < 1500, f"{args[0]}: peak {peak:.0f} MB"
        assert not out.exists()


def test_a_big_run_is_allowed_with_max_size(tmp_path):
    """Ten years at 3 s (105 million steps) is over the 8 GiB default; the error names the
    --max-size that allows it, and validate with it says ok with the estimate, still
    without allocating the run (the time grid is not built)."""
    from leosim.engine.size import available_memory

    big = scenario(tmp_path, "3650d", "3s")
    p = leosim("validate", big, ok=False)
    msg = one_line_error(p)
    if "more memory than this machine has available" in msg:
        pytest.skip(f"this machine has too little memory available for the 10-year, 3 s estimate: {msg}")
    assert "105,120,000 steps x 3 pairs" in msg and "over the 8.0 GiB limit" in msg
    allow = re.search(r"--max-size (\S+) to allow it", msg).group(1)
    p, peak = peak_rss_mb(["validate", big, "--max-size", allow])
    assert p.returncode == 0, p.stderr
    assert "ok: faults:" in p.stdout and "size: 105,120,000 steps x 3 pairs: about" in p.stdout
    assert peak < 1500, peak
    room = available_memory()
    assert room is None or room > 8 * 1024**3  # it was allowed because it fits
    # the option is the run's too, and a small limit refuses a small run, changing nothing
    small = scenario(tmp_path, "1min", "5s", "small.toml")
    out = tmp_path / "o"
    msg = one_line_error(leosim("run", small, "-o", out, "--max-size", "1kB", ok=False))
    assert "12 steps x 3 pairs" in msg and "over the 1.0 kB limit" in msg and "--max-size 1GiB to allow it" in msg
    assert not out.exists()
    assert "cannot read --max-size 'lots'" in one_line_error(leosim("run", small, "-o", out, "--max-size", "lots", ok=False))


@pytest.mark.parametrize("command", ["path", "pairs"])
def test_ten_years_of_path_or_pairs_is_refused(tmp_path, command):
    sites = tmp_path / "gs.basic.txt"
    sites.write_text(SITES)
    out = tmp_path / "r.zarr"
    args = (["path", "--src", "London", "--dst", "Madrid"] if command == "path"
            else ["pairs", "--ground-stations", sites, "-o", out])
    msg = one_line_error(leosim(*args, *PAIRS, "--duration", "3650d", ok=False))
    assert f"leosim {command} would " in msg and "315,360,000 steps x " in msg
    assert "expected a coarser --step or a shorter --duration" in msg or "fewer --ground-stations" in msg
    assert not out.exists()


def test_ten_years_of_latency_or_czml_is_refused(tmp_path):
    """The commands that build their scenario from options name themselves and their
    options; a CZML export is counted in samples x satellites (it reached 17.5 GB and an
    ArrayMemoryError traceback after 50 s)."""
    p, peak = peak_rss_mb(["latency", "--country", "UA", "--duration", "3650d", "--step", "1s"])
    msg = one_line_error(p)
    assert msg.startswith("error: leosim latency would need 315,360,000 steps x 0 pairs: about 0 B of output")
    assert msg.endswith("expected a coarser --step or a shorter --duration") and peak < 1500
    f = scenario(tmp_path, "1min", "5s")
    czml = tmp_path / "x.czml"
    p, peak = peak_rss_mb(["export", "--scenario", f, "--czml", czml, "--duration", "3650d", "--step", "1s"])
    msg = one_line_error(p)
    assert msg.startswith("error: leosim export --czml would ") and "315,360,002 samples x 192 satellites" in msg
    assert peak < 1500 and not czml.exists()
    msg = one_line_error(leosim("export", "--scenario", f, "--czml", czml, "--duration", "10d", "--max-size", "1MiB", ok=False))
    assert "14,402 samples x 192 satellites" in msg and "over the 1.0 MiB limit" in msg and "--max-size 1GiB to allow it" in msg
    assert not czml.exists()


# ----------------------------------------------------------------------- Ctrl-C
def _interrupt_mid_routing(args, total: int) -> subprocess.CompletedProcess:
    """Start ``leosim *args``, wait for its first progress line, then press Ctrl-C (SIGINT
    to its whole process group, as a terminal does: the workers get it too)."""
    p = subprocess.Popen([sys.executable, "-m", "leosim", *map(str, args)], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, start_new_session=True)
    seen = ""
    try:
        while True:
            line = p.stderr.readline()
            seen += line
            if not line or re.search(rf"\b\d+/{total} steps", line):
                break
        os.killpg(p.pid, signal.SIGINT)
        out, err = p.communicate(timeout=120)
    finally:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
    return subprocess.CompletedProcess(args, p.returncode, out, seen + err)


@pytest.mark.parametrize("executor", ["processes", "dask"])
def test_ctrl_c_says_how_far_it_got_and_resume_finishes(tmp_path, executor):
    """Forked workers and Dask's spawned workers never take the Ctrl-C (they printed
    their own tracebacks); the driver says how far it got, once."""
    if executor == "dask":
        pytest.importorskip("distributed")
    f = scenario(tmp_path, "30min", "1s")
    out = tmp_path / "o"
    p = _interrupt_mid_routing(["run", f, "-o", out, "--workers", "2", "--executor", executor], 1800)
    assert p.returncode == 130, p.stderr
    assert "Traceback" not in p.stderr + p.stdout and "KeyboardInterrupt" not in p.stderr
    said = [line for line in p.stderr.splitlines() if "interrupted" in line.lower()]
    assert len(said) == 1, p.stderr
    m = re.fullmatch(rf"interrupted after ([\d,]+) of 1,800 steps; {re.escape(str(out))} is incomplete \(its INCOMPLETE "
                     r"file says so\); finish it with: (leosim run .* --resume)", said[0])
    assert m, said[0]
    done = int(m.group(1).replace(",", ""))
    assert 0 < done < 1800
    assert (out / "INCOMPLETE").read_text().startswith(f"Interrupted after {m.group(1)} of 1,800 steps")
    assert not (out / "summary.json").exists()
    # the command it printed finishes the run from where it stopped
    words = shlex.split(m.group(2))
    assert words[:2] == ["leosim", "run"]
    r = leosim(*words[1:], "--workers", "2")
    assert re.search(r"resuming: \d+ chunks already done", r.stderr)
    assert not (out / "INCOMPLETE").exists()
    summary = json.loads((out / "summary.json").read_text())
    assert summary["reachable"] > 0.5
    from leosim.engine.stores import PairsStore, open_pairs

    assert len(PairsStore(out / "rtt.zarr").done()) == 8  # 1,800 steps in chunks of 225
    assert open_pairs(out / "rtt.zarr").sizes["time"] == 1800


def test_resume_on_a_missing_output_starts_it(tmp_path):
    sites = tmp_path / "gs.basic.txt"
    sites.write_text(SITES)
    out = tmp_path / "new.zarr"
    p = leosim("pairs", "--ground-stations", sites, *PAIRS, "--duration", "4s", "-o", out, "--resume", "--workers", "1")
    assert f"{out} does not exist yet: starting it" in p.stderr and f"wrote {out}: 4 steps x 3 pairs" in p.stderr
    p = leosim("pairs", "--ground-stations", sites, *PAIRS, "--duration", "4s", "-o", out, "--resume", "--workers", "1")
    assert f"resuming {out}: 4 chunks already done" in p.stderr
    # and leosim run --resume into a directory that does not exist yet
    f = scenario(tmp_path, "20s", "5s")
    p = leosim("run", f, "-o", tmp_path / "run", "--resume", "--workers", "1")
    assert "holds no run yet: starting it" in p.stderr and (tmp_path / "run" / "summary.json").exists()


# ------------------------------------------------------------------- full disk
def _file_size_limit(n_bytes: int):
    def limit():  # Python ignores SIGXFSZ, so a write past the limit fails with EFBIG
        resource.setrlimit(resource.RLIMIT_FSIZE, (n_bytes, n_bytes))
    return limit


def test_a_write_that_fails_says_so_and_resume_finishes(tmp_path):
    """A file-size limit (RLIMIT_FSIZE: writes past 1,500 bytes fail with EFBIG, as a full
    disk fails with ENOSPC): one line naming the failure, how far the run got and the
    command that finishes it; that command, with room to write, does."""
    f = scenario(tmp_path, "10min", "1s")  # its time coordinate (600 steps) is more than 1,500 bytes
    out = tmp_path / "o"
    msg = one_line_error(leosim("run", f, "-o", out, "--workers", "1", ok=False, preexec_fn=_file_size_limit(1500)))
    m = re.fullmatch(rf"error: cannot write (?:into )?'[^']*': File too large; stopped (.*), {re.escape(str(out))} is "
                     r"incomplete \(its INCOMPLETE marker stays\); free space or fix permissions, then finish it with: "
                     r"(leosim run .* --resume)", msg)
    assert m, msg
    assert "of 600 steps" in m.group(1)
    assert (out / "INCOMPLETE").exists() and not (out / "summary.json").exists()
    leosim(*shlex.split(m.group(2))[1:], "--workers", "1")
    assert (out / "summary.json").exists() and not (out / "INCOMPLETE").exists()
    # netCDF-C reports the failed write as RuntimeError 'NetCDF: HDF error': the same one line
    sites = tmp_path / "gs.basic.txt"
    sites.write_text(SITES)
    nc = tmp_path / "r.nc"
    msg = one_line_error(leosim("pairs", "--ground-stations", sites, *PAIRS, "--duration", "20s", "-o", nc, "--workers", "1",
                                ok=False, preexec_fn=_file_size_limit(1500)))
    assert f"error: cannot write '{nc}': netCDF could not write it (NetCDF: HDF error" in msg
    assert "stopped after 0 of 20 steps" in msg and "run the same command again with --overwrite" in msg


def _tmpfs_available() -> bool:
    if shutil.which("unshare") is None:
        return False
    p = subprocess.run(["unshare", "-rm", "sh", "-c", "d=$(mktemp -d) && mount -t tmpfs -o size=64k none $d"],
                       capture_output=True, timeout=30)
    return p.returncode == 0


def test_a_full_disk_says_so_and_resume_finishes_once_there_is_room(tmp_path):
    """A real full disk: a 300 kB tmpfs in a private mount namespace (``unshare -rm``, no
    root needed where user namespaces are allowed). The run stops with ENOSPC part-way; the
    tmpfs is grown and the printed command finishes the run."""
    if not _tmpfs_available():
        pytest.skip("cannot mount a tmpfs here (unshare -rm and mount -t tmpfs are refused)")
    f = scenario(tmp_path, "30min", "1s")
    disk = tmp_path / "disk"
    disk.mkdir()
    out = disk / "o"
    run = shlex.join([sys.executable, "-m", "leosim", "run", str(f), "-o", str(out), "--workers", "2"])
    script = (f"mount -t tmpfs -o size=300k none {shlex.quote(str(disk))} || exit 9; {run} 2>&1; echo \"rc=$?\"; "
              f"mount -o remount,size=16m {shlex.quote(str(disk))}; "
              f"{run.replace(' --workers', ' --resume --workers')} > /dev/null 2>&1; echo \"resumed=$?\"; "
              f"test -f {shlex.quote(str(out / 'summary.json'))} && echo finished")
    p = subprocess.run(["unshare", "-rm", "sh", "-c", script], capture_output=True, text=True, timeout=600)
    text = p.stdout
    assert "rc=1" in text and "resumed=0" in text and "finished" in text, text[-3000:]
    assert "Traceback" not in text
    errors = [line for line in text.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, text
    assert re.fullmatch(rf"error: cannot write (?:into )?'[^']*': No space left on device; stopped .*of 1,800 steps, "
                        rf"{re.escape(str(out))} is incomplete \(its INCOMPLETE marker stays\); free space or fix "
                        r"permissions, then finish it with: leosim run .* --resume", errors[0]), errors[0]


# ---------------------------------------------------------- outputs that are not ours
def test_pairs_output_onto_a_file_or_a_link_loses_nothing(tmp_path):
    sites = tmp_path / "gs.basic.txt"
    sites.write_text(SITES)
    common = ["pairs", "--ground-stations", sites, *PAIRS, "--duration", "4s", "--workers", "1"]
    for name in ("r.zarr", "r.nc"):
        plain = tmp_path / name
        plain.write_text("my notes\n")
        msg = one_line_error(leosim(*common, "-o", plain, ok=False))
        assert f"output '{plain}' is " in msg and "expected a new path (or --overwrite to replace it" in msg
        assert plain.read_text() == "my notes\n"
    msg = one_line_error(leosim(*common, "-o", tmp_path / "r.zarr", "--resume", ok=False))
    assert "it is a regular file, not a zarr store" in msg and (tmp_path / "r.zarr").read_text() == "my notes\n"
    # an unknown suffix is refused before --overwrite removes anything
    notes = tmp_path / "notes.txt"
    notes.write_text("keep\n")
    msg = one_line_error(leosim(*common, "-o", notes, "--overwrite", ok=False))
    assert "has suffix '.txt'; expected OUT.zarr or OUT.nc" in msg and notes.read_text() == "keep\n"
    # a symbolic link named rtt.zarr, to someone's store: refused with and without --overwrite,
    # the link and what it points to untouched
    target = tmp_path / "precious"
    (target / "sub").mkdir(parents=True)
    (target / "sub" / "data").write_text("precious\n")
    (target / ".zgroup").write_text('{"zarr_format": 2}')
    link = tmp_path / "rtt.zarr"
    link.symlink_to(target)
    for extra in ([], ["--overwrite"], ["--resume"]):
        msg = one_line_error(leosim(*common, "-o", link, *extra, ok=False))
        assert f"output '{link}' is a symbolic link (to '{target}')" in msg and "nothing was changed" in msg
        assert link.is_symlink() and (target / "sub" / "data").read_text() == "precious\n"
        assert sorted(p.name for p in target.rglob("*")) == [".zgroup", "data", "sub"]
    # a directory that is not a store is never removed, even with --overwrite
    other = tmp_path / "other.zarr"
    other.mkdir()
    (other / "keep").write_text("x")
    msg = one_line_error(leosim(*common, "-o", other, "--overwrite", ok=False))
    assert "is a directory but not a zarr store" in msg and (other / "keep").exists()
    # and --overwrite does replace a store leosim wrote
    store = tmp_path / "mine.zarr"
    leosim(*common, "-o", store)
    assert "is there already" in one_line_error(leosim(*common, "-o", store, ok=False))
    leosim(*common, "-o", store, "--overwrite")


def test_run_overwrite_removes_a_linked_rtt_zarr_not_its_target(tmp_path):
    """``leosim run --overwrite`` into a directory whose rtt.zarr is a symbolic link: the
    link is removed, never followed (what it points to is untouched); ``--resume`` there is
    refused in one line."""
    f = scenario(tmp_path, "20s", "5s")
    out = tmp_path / "o"
    out.mkdir()
    target = tmp_path / "elsewhere.zarr"
    target.mkdir()
    (target / "data").write_text("precious\n")
    (out / "rtt.zarr").symlink_to(target)
    (out / "INCOMPLETE").write_text("x")
    msg = one_line_error(leosim("run", f, "-o", out, "--resume", ok=False))
    assert "rtt.zarr is a symbolic link" in msg and (out / "rtt.zarr").is_symlink()
    assert "exists and is not empty" in one_line_error(leosim("run", f, "-o", out, ok=False))
    leosim("run", f, "-o", out, "--overwrite", "--workers", "1")
    assert not (out / "rtt.zarr").is_symlink() and (out / "summary.json").exists()
    assert [p.name for p in target.iterdir()] == ["data"] and (target / "data").read_text() == "precious\n"


def test_run_output_that_is_a_file(tmp_path):
    f = scenario(tmp_path, "20s", "5s")
    out = tmp_path / "o"
    out.write_text("mine\n")
    msg = one_line_error(leosim("run", f, "-o", out, "--overwrite", ok=False))
    assert f"output '{out}' is a file; expected a directory" in msg and out.read_text() == "mine\n"


# ----------------------------------------------------------------------- sweeps
@pytest.mark.parametrize(
    "sets, message",
    [
        (["routing=free", "routing.attach=free"],
         "--set 'routing' and --set 'routing.attach' overlap (routing is set by both)"),
        (["routing.attach=free", "routing.attach=scheduled"],
         "--set 'routing.attach' and --set 'routing.attach' overlap"),
        (["routing.attach.x=1"], "--set key 'routing.attach.x': 'x' does not exist in the scenario schema here"),
        ([f"time.duration={'9' * 4400}"], "(4,400 characters)' is an integer of more than 4,300 digits"),
        ([f"routing.attach={'[' * 1200}{']' * 1200}"], "(2,400 characters)' is nested too deeply"),
        (["routing.attach=free,scheduled", "routing.min_elevation_deg=" + ",".join(str(20 + i % 50) for i in range(600))],
         "--set makes 1,200 variants (2 (routing.attach) x 600 (routing.min_elevation_deg)); expected at most 1,000"),
    ],
)
def test_sweep_keys_that_collide_are_one_line(tmp_path, sets, message):
    f = scenario(tmp_path, "20s", "5s")
    out = tmp_path / "sweep"
    args = ["sweep", f, "-o", out]
    for s in sets:
        args += ["--set", s]
    msg = one_line_error(leosim(*args, ok=False))
    assert message in msg
    assert not out.exists()


def test_sweep_of_variants_too_big_together(tmp_path):
    f = scenario(tmp_path, "3650d", "1min")  # 5,256,000 steps a variant: each under the limit
    msg = one_line_error(leosim("sweep", f, "-o", tmp_path / "sw", "--set", "routing.min_elevation_deg=20,25,30,35,40",
                                "--max-size", "1GiB", ok=False))
    assert "leosim sweep (5 variants together) would make 26,280,000 steps" in msg and "over the 1.0 GiB limit" in msg
    assert not (tmp_path / "sw").exists()


# ------------------------------------------------------- far from the element sets
def test_a_run_far_from_the_epochs_warns_once(tmp_path):
    """The May 2026 snapshot's element sets (epochs 2026-05-12/13) at 2031 and at July
    2026: every satellite is past the 30-day age limit, so each command says so once on
    stderr (the issue: visible --at 2031-01-01 listed 264 satellites up to 5e17 km away,
    silently); at the epoch nothing is said."""
    def warnings(p):
        assert "Traceback" not in p.stderr
        return [line for line in p.stderr.splitlines() if line.startswith("warning: ")]

    p = leosim("visible", "--at", "2031-01-01", "--site", "London", "--format", "csv")
    (w,) = warnings(p)
    assert w.startswith("warning: the run (2031-01-01T00:00:00.000Z) is more than 30 days from the epochs of all "
                        "10,361 element sets") and "every satellite is left out (NaN)" in w
    assert p.stdout.strip() == "name,norad_id,elevation_deg,azimuth_deg,range_km"  # none listed
    assert warnings(leosim("visible", "--site", "London", "--format", "csv")) == []
    p = leosim("path", "--src", "London", "--dst", "Madrid", "--start", "2026-07-01", "--duration", "2s", "--step", "1s",
               "--format", "csv")
    (w,) = warnings(p)
    assert "the run (2026-07-01T00:00:00.000Z to 2026-07-01T00:00:01.000Z) is more than 30 days" in w
    f = tmp_path / "late.toml"
    f.write_text(SCENARIO.replace("shells = [{altitude_km = 550, inclination_deg = 53, planes = 12, sats_per_plane = 16}]",
                                  'preset = "starlink-2026-05"')
                 .replace('start = "2026-05-13T00:00:00Z"', 'start = "2026-07-01T00:00:00Z"')
                 .replace("DURATION", "30s").replace("STEP", "15s"))
    p = leosim("run", f, "-o", tmp_path / "o", "--workers", "1")
    (w,) = warnings(p)
    assert "the run (2026-07-01T00:00:00.000Z to 2026-07-01T00:00:15.000Z) is more than 30 days" in w


def test_an_endless_input_file_is_refused_at_the_size_limit():
    # /dev/zero has no size to stat: it was read until the OOM killer ended the command
    p = subprocess.run([sys.executable, "-m", "leosim", "constellation", "--tle", "/dev/zero"],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 1 and "Traceback" not in p.stderr, p.stderr
    assert p.stderr.startswith("error: cannot read element file '/dev/zero': it holds more than the"), p.stderr


def test_a_scenario_name_with_brackets_is_printed_not_read_as_markup(tmp_path):
    scn = tmp_path / "m.toml"
    scn.write_text('name = "a[/x]"\n[time]\nduration = "30s"\n[ground]\n[[ground.terminals]]\nplaces = ["Kyiv"]\n')
    p = subprocess.run([sys.executable, "-m", "leosim", "validate", str(scn)], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0 and "ok: a[/x]:" in p.stdout and "Traceback" not in p.stderr, p.stderr


def test_a_sweep_key_index_of_thousands_of_digits_is_one_line(tmp_path):
    key = "ground.terminals[" + "9" * 4313 + "].places=[\"Kyiv\"]"
    p = subprocess.run([sys.executable, "-m", "leosim", "sweep", "global", "--set", key, "-o", str(tmp_path / "s")],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode != 0 and "Traceback" not in p.stderr, p.stderr
    assert "has an index of 4,313 digits; expected a list index such as [0]" in p.stderr, p.stderr
