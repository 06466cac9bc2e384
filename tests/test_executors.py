"""The forked-process executor: results with large arrays come back through files in
/dev/shm (leosim.engine.executors._export_arrays), equal to what the pipe would carry,
and leave no file behind, whether the run ends, fails or cannot write there."""

from __future__ import annotations

import dataclasses
import glob
import mmap
import os

import numpy as np
import pytest

from leosim.engine import executors
from leosim.engine.executors import Processes, Serial


@dataclasses.dataclass
class Result:
    i: int
    big: np.ndarray | None = None
    small: np.ndarray | None = None
    ints: np.ndarray | None = None


def make(ctx, i):
    """A task: arrays that depend on the task and on the shared context."""
    if i == ctx["fail_at"]:
        raise ValueError(f"task {i} fails")
    rng = np.random.default_rng(i)
    big = rng.normal(size=(ctx["rows"], 1000)) + ctx["offset"]
    return Result(i, big=big, small=np.arange(3) * i, ints=(big * 1e3).astype(np.int16).T)  # .T: not C-contiguous


def leftovers() -> list[str]:
    return glob.glob(executors._shared_prefix(os.getpid()) + "*")


def mapped(a: np.ndarray) -> bool:
    """Whether the array's memory is a mapping (numpy keeps a memoryview of the mmap)."""
    while isinstance(a, np.ndarray):
        a = a.base
    return isinstance(a, memoryview) and isinstance(a.obj, mmap.mmap)


CTX = {"rows": 300, "offset": 7.0, "fail_at": -1}  # 300 x 1000 float64: 2.4 MB, over the 1 MB threshold


def test_large_arrays_come_back_through_shared_files_equal_to_serial():
    serial = list(Serial().imap(make, CTX, range(6)))
    forked = list(Processes(2).imap(make, CTX, range(6)))
    assert [r.i for r in forked] == list(range(6))  # in task order
    for s, f in zip(serial, forked):
        for name in ("big", "small", "ints"):
            np.testing.assert_array_equal(getattr(f, name), getattr(s, name), err_msg=name)
            assert getattr(f, name).dtype == getattr(s, name).dtype
        assert mapped(f.big) and not mapped(f.ints)  # 2.4 MB through a file, 0.6 MB through the pipe
        f.big[0, 0] = -1.0  # writable: a private mapping
    assert leftovers() == []


def test_small_arrays_stay_in_the_pipe():
    [r0, _] = list(Processes(2).imap(make, {**CTX, "rows": 10}, range(2)))
    assert not mapped(r0.big) and not mapped(r0.small)  # 80 kB: under the threshold


def test_a_failing_task_leaves_no_file_behind():
    with pytest.raises(ValueError, match="task 3 fails"):
        list(Processes(2).imap(make, {**CTX, "fail_at": 3}, range(8)))
    assert leftovers() == []


def test_without_a_writable_shared_folder_results_go_through_the_pipe(monkeypatch, tmp_path):
    # a full /dev/shm (64 MB in a default container) fails the write: the array stays in
    # the result; here the folder is simply missing
    monkeypatch.setattr(executors, "_shared_dir", lambda: str(tmp_path / "missing"))
    forked = list(Processes(2).imap(make, CTX, range(3)))
    for f, s in zip(forked, Serial().imap(make, CTX, range(3))):
        np.testing.assert_array_equal(f.big, s.big)
        assert not mapped(f.big)


def test_files_left_by_a_killed_driver_are_removed_by_the_next_run():
    # a driver killed outright (SIGKILL) leaves its files; the next run removes those of
    # drivers that are gone, and leaves a live one's
    import subprocess

    dead = subprocess.Popen(["true"])
    dead.wait()  # a pid that is no longer running
    gone = executors._shared_prefix(dead.pid) + "123-0"
    alive = executors._shared_prefix(os.getppid()) + "123-0"  # pytest's parent: alive
    for path in (gone, alive):
        with open(path, "wb") as fh:
            fh.write(b"x")
    try:
        list(Processes(2).imap(make, CTX, range(2)))
        assert not os.path.exists(gone) and os.path.exists(alive)
    finally:
        for path in (gone, alive):
            if os.path.exists(path):
                os.unlink(path)
