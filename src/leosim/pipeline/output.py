"""The output of a run: refused when it holds something else, an ``INCOMPLETE`` marker
until every file is written, a fingerprint so a resumed run is the same run, and the one
line a user sees when writing fails or the run is interrupted.

A run writes only inside its output directory: with ``--overwrite`` a file or symbolic
link it would write is removed, never followed; on ``--resume`` a symbolic link where an
output file should be is refused. ``leosim pairs`` writes one dataset (``OUT.zarr`` or
``OUT.nc``): a new path, or with ``--overwrite`` an existing file or store, never a
symbolic link (:func:`prepare_store`).
"""

from __future__ import annotations

import errno
import hashlib
import shutil
from pathlib import Path

from leosim import __version__
from leosim.errors import LeosimError, ScenarioError
from leosim.scenario.columns import OUTPUT_FILES

MARKER = "INCOMPLETE"


class OutputError(LeosimError, OSError):
    """Writing an output failed (a full disk, no permission): the output is incomplete.

    (It belongs in :mod:`leosim.errors`'s tree, beside ``ResultsDirError``; it is here
    until that module takes it.)"""


class Interrupted(KeyboardInterrupt):
    """Ctrl-C during a run, with the one line to print: how far it got and how to resume."""


def check_output(out_dir: Path, overwrite: bool) -> None:
    """Refuse an output directory a run may not write into, changing nothing: a file, or
    a non-empty directory without ``overwrite``."""
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise ScenarioError(f"output {str(out_dir)!r} is a file; expected a directory")
    if not overwrite and out_dir.is_dir() and any(out_dir.iterdir()):
        raise ScenarioError(
            f"output directory {str(out_dir)!r} exists and is not empty; "
            "expected a new or empty directory (or pass --overwrite)"
        )


def prepare_output(out_dir: Path, overwrite: bool) -> None:
    """Create the output directory; refuse a non-empty one unless ``overwrite``.

    With ``overwrite``, only the files a run writes are removed (a symlink is removed,
    never followed); anything else in the directory is left alone.
    """
    out_dir = Path(out_dir)
    check_output(out_dir, overwrite)
    try:
        if out_dir.is_dir():
            for name in OUTPUT_FILES:
                p = out_dir / name
                if p.is_symlink() or p.is_file():
                    p.unlink()
                elif p.is_dir():
                    shutil.rmtree(p)
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(
            f"cannot prepare output directory {str(out_dir)!r}: {exc.strerror or exc}; expected a directory this "
            "user can write"
        ) from None


def check_resumable(out_dir: Path) -> None:
    """Refuse to resume into a directory whose output files are symbolic links (a run
    never writes through a link, so it cannot be sent out of its directory)."""
    for name in OUTPUT_FILES:
        p = Path(out_dir) / name
        if p.is_symlink():
            raise ScenarioError(
                f"cannot resume {str(out_dir)!r}: {name} is a symbolic link (to {str(p.readlink())!r}); "
                "expected the files of an interrupted run (leosim writes only inside the output directory)"
            )


def fingerprint(seed: int, text: str) -> str:
    """What determines a run's numbers: a resumed run must match the interrupted one."""
    return hashlib.sha256(f"{__version__}\n{seed}\n{text}".encode()).hexdigest()


def mark_incomplete(out_dir: Path, text: str = "This run has not finished: the files here are partial.\n") -> Path:
    marker = Path(out_dir) / MARKER
    try:
        marker.write_text(text)
    except OSError as exc:
        raise OutputError(f"cannot write {str(marker)!r}: {exc.strerror or exc}; nothing was run") from None
    return marker


#: The errors of a device, not of a path: whatever file they name, the output failed.
_DEVICE_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EFBIG, errno.EIO}


def output_fault(exc: OSError, out: Path, incomplete: str, resume: str) -> OutputError:
    """The one-line error for ``exc`` raised while a run writes ``out``: ``incomplete``
    says what is left, ``resume`` how to finish it. A failure about a file elsewhere (not
    a device error such as a full disk) is named as such, not as a write of the output."""
    if isinstance(exc, OutputError):  # already said
        return exc
    out = Path(out)
    name = exc.filename
    inside = False
    if name is not None:
        try:
            inside = Path(name).resolve().is_relative_to(out.resolve())
        except (OSError, ValueError, TypeError):
            inside = False
    if inside or name is None or exc.errno in _DEVICE_ERRNOS:
        what = f"cannot write {str(name)!r}" if name is not None else f"cannot write into {str(out)!r}"
    else:
        what = f"{str(name)!r} failed"
    return OutputError(f"{what}: {exc.strerror or exc}; {incomplete}; {resume}")


def _is_zarr_store(path: Path) -> bool:
    return path.is_dir() and not path.is_symlink() and ((path / ".zgroup").is_file() or (path / "zarr.json").is_file())


def prepare_store(path: Path, *, overwrite: bool, resume: bool) -> str:
    """What ``leosim pairs`` may do with its output ``path``, deciding only (nothing is
    changed here): ``"create"`` (nothing there), ``"replace"`` (``overwrite``: remove it with
    :func:`clear_store` first), ``"resume"``, or ``"start"`` (``--resume`` given, but
    nothing there yet: start it).

    Refused: a symbolic link, with or without ``overwrite`` (never followed nor removed),
    an existing file or store without ``overwrite`` or ``resume``, a directory that is not
    a zarr store (never removed), a missing parent directory.
    """
    path = Path(path)
    zarr = path.suffix.lower() == ".zarr"
    if path.is_symlink():  # whatever the options: the user may mean what it points to, which is not ours
        raise ScenarioError(
            f"output {str(path)!r} is a symbolic link (to {str(path.readlink())!r}); expected a new path or a store "
            "(leosim neither writes through a link nor removes one; nothing was changed)"
        )
    if not path.parent.is_dir():
        raise ScenarioError(f"output directory {str(path.parent)!r} does not exist; expected an existing directory")
    if not path.exists():
        return "start" if resume else "create"
    if path.is_dir() and not _is_zarr_store(path):
        raise ScenarioError(
            f"output {str(path)!r} is a directory but not a {'zarr store' if zarr else 'dataset'}; "
            "expected a new path or a store an earlier leosim pairs wrote (nothing was removed)"
        )
    if resume:
        if not zarr or not path.is_dir():
            raise ScenarioError(f"cannot resume {str(path)!r}: it is a regular file, not a zarr store (OUT.zarr); "
                                "expected the store of an interrupted leosim pairs")
        return "resume"
    if not overwrite:
        kind = "a regular file, not a zarr store" if zarr and not path.is_dir() else "there already"
        raise ScenarioError(
            f"output {str(path)!r} is {kind}; expected a new path (or --overwrite to replace it"
            f"{', or --resume to finish an interrupted run into it' if zarr and path.is_dir() else ''})"
        )
    return "replace"


def clear_store(path: Path) -> None:
    """Remove what :func:`prepare_store` said to replace: a file or a store (never through a link)."""
    path = Path(path)
    try:
        if path.is_symlink() or not path.is_dir():
            path.unlink()
        else:
            shutil.rmtree(path)
    except OSError as exc:
        raise OutputError(f"cannot remove {str(path)!r} to replace it: {exc.strerror or exc}; nothing was written") from None


__all__ = [
    "MARKER", "Interrupted", "OutputError", "check_output", "clear_store", "check_resumable", "fingerprint", "mark_incomplete",
    "output_fault", "prepare_output", "prepare_store",
]
