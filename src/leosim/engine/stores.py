"""Per-step pair results on disk, written as they are computed: zarr or netCDF.

The dataset has dimensions ``time`` and ``pair``; variables ``rtt_ms`` (propagation),
``ping_ms`` (the predicted median idle ping, :mod:`leosim.models.latency`), ``length_km``,
``hops``, ``path_hash`` (a fingerprint of the node sequence), ``path_changed`` (the path
differs from the previous step's; netCDF stores it as 0/1) and ``n_isl_up``; coordinates
``time``, ``t_s``, ``src``, ``dst`` (site names) and the endpoints' indices. Zarr stores
are laid out whole and written chunk by chunk by whoever computed the chunk
(:class:`PairsStore`); netCDF files are appended by the driver (:class:`PairsWriter`).
Either way memory stays bounded by a chunk. :func:`open_pairs` reads both with xarray.
"""

from __future__ import annotations

import errno
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from leosim.core.time import TimeGrid
from leosim.engine.chunks import PairChunk
from leosim.errors import ParameterError, require
from leosim.ground.sites import GroundSegment


@dataclass(frozen=True)
class Variable:
    """One variable of a pairs dataset: its dimensions, stored type, fill value, attributes,
    and the :class:`~leosim.engine.chunks.PairChunk` field it comes from (times ``scale``:
    chunks are SI, stores write ms and km)."""

    dims: tuple[str, ...]
    dtype: str
    fill: float | None
    attrs: dict
    field: str
    scale: float = 1.0

    def values(self, ch: PairChunk) -> np.ndarray:
        v = getattr(ch, self.field)
        if self.scale != 1.0:
            v = v * self.scale
        return np.asarray(v).astype(self.dtype)


#: Every variable of a pairs dataset, for both stores (no fill value for integers: readers
#: would take it for "missing" and turn them to floats).
VARIABLES = {
    "rtt_ms": Variable(("time", "pair"), "<f4", np.nan, {"long_name": "round-trip propagation time", "units": "ms"}, "rtt_s", 1e3),
    "ping_ms": Variable(("time", "pair"), "<f4", np.nan, {"long_name": "predicted median idle ping (propagation plus access, processing, queueing; docs/latency.md)", "units": "ms"}, "ping_s", 1e3),
    "length_km": Variable(("time", "pair"), "<f4", np.nan, {"long_name": "one-way path length", "units": "km"}, "length_m", 1e-3),
    "hops": Variable(("time", "pair"), "<i2", None, {"long_name": "links on the path"}, "hops"),
    "path_hash": Variable(("time", "pair"), "<u8", None, {"long_name": "fingerprint of the node sequence"}, "path_hash"),
    "path_changed": Variable(("time", "pair"), "|b1", None, {"long_name": "path differs from the previous step"}, "path_changed"),
    "n_isl_up": Variable(("time",), "<i4", None, {"long_name": "laser links up"}, "n_isl_up"),
}


class PairsWriter:
    """Append :class:`~leosim.engine.chunks.PairChunk` results, in order, to ``OUT.nc`` (netCDF 4).

    netCDF cannot take concurrent region writes, so the driver appends each chunk as it
    arrives; zarr output uses :class:`PairsStore`, which the tasks write themselves.
    """

    def __init__(self, path: str | Path, grid: TimeGrid, sites: GroundSegment, pairs: np.ndarray, attrs: dict | None = None):
        require("xarray", "io")
        self.path = Path(path)
        suffix = self.path.suffix.lower()
        if suffix != ".nc":
            raise ParameterError(f"output {str(self.path)!r} has suffix {suffix or 'none'!r}; expected OUT.nc (OUT.zarr goes to PairsStore)")
        if not self.path.parent.exists():
            raise ParameterError(f"output directory {str(self.path.parent)!r} does not exist; expected an existing directory")
        self.grid, self.sites, self.pairs = grid, sites, np.asarray(pairs)
        self.attrs = {k: (str(v) if v is not None else "") for k, v in (attrs or {}).items()}
        self._nc = None
        self._written = 0
        if self.path.exists():
            self.path.unlink()

    def _open(self):
        netCDF4 = require("netCDF4", "io")

        nc = netCDF4.Dataset(self.path, "w")
        nc.createDimension("time", None)
        nc.createDimension("pair", len(self.pairs))
        t = nc.createVariable("time", "i8", ("time",))
        t.units = f"nanoseconds since {np.datetime_as_string(self.grid.start, unit='ns')}"
        t.calendar = "proleptic_gregorian"
        nc.createVariable("t_s", "f8", ("time",)).units = "s"
        for name, v in VARIABLES.items():
            var = nc.createVariable(name, "u1" if v.dtype == "|b1" else np.dtype(v.dtype), v.dims, zlib=True, complevel=1)
            for k, val in v.attrs.items():
                var.setncattr(k, val)
        names = np.array(self.sites.names, dtype=object)
        for name, idx in (("src", self.pairs[:, 0]), ("dst", self.pairs[:, 1])):
            nc.createVariable(name, str, ("pair",))[:] = names[idx]
        for name, idx in (("src_index", self.pairs[:, 0]), ("dst_index", self.pairs[:, 1])):
            nc.createVariable(name, "i8", ("pair",))[:] = idx
        nc.setncatts({**self.attrs, "step_s": self.grid.step_s, "start": str(self.grid.start)})
        return nc

    def _failed(self, exc: RuntimeError) -> OSError:
        """netCDF-C reports a failed write (a full disk, a file-size limit) as a
        RuntimeError ``NetCDF: HDF error``; it is an OSError about this file."""
        return OSError(errno.EIO, f"netCDF could not write it ({exc}; a full disk, a file size limit or a write error)",
                       str(self.path))

    def write(self, ch: PairChunk) -> None:
        if ch.i0 != self._written:
            raise RuntimeError(f"chunk starts at step {ch.i0}, expected {self._written}")
        try:
            self._write(ch)
        except RuntimeError as exc:
            if not str(exc).startswith("NetCDF:"):
                raise
            raise self._failed(exc) from None

    def _write(self, ch: PairChunk) -> None:
        if self._nc is None:
            self._nc = self._open()
        nc, i0, i1 = self._nc, ch.i0, ch.i1
        nc["time"][i0:i1] = (self.grid.times[i0:i1] - self.grid.start).astype("timedelta64[ns]").astype(np.int64)
        nc["t_s"][i0:i1] = self.grid.offsets_s[i0:i1]
        for name, v in VARIABLES.items():
            values = v.values(ch)
            nc[name][i0:i1] = values.astype(np.uint8) if v.dtype == "|b1" else values
        nc.sync()
        self._written = ch.i1

    def close(self) -> None:
        if self._nc is not None:
            nc, self._nc = self._nc, None
            try:
                nc.close()
            except RuntimeError as exc:
                if not str(exc).startswith("NetCDF:"):
                    raise
                raise self._failed(exc) from None


# ----------------------------------------------------------------- region-write store
class PairsStore:
    """A zarr store laid out whole before the run; each task writes its own chunk.

    Zarr format 2 (every reader knows it, and its fixed-length unicode for site names is
    specified). The time axis is chunked exactly as the engine's chunks, so concurrent
    region writes from workers never touch the same file. After writing a chunk, a task
    leaves a marker in ``.leosim-done/``; a resumed run solves only chunks without one.
    The store records a fingerprint of what produced it, and refuses to be resumed by
    anything else.
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)

    @classmethod
    def create(cls, path, grid: TimeGrid, sites: GroundSegment, pairs: np.ndarray, chunk_steps: int,
               fingerprint: str, attrs: dict | None = None) -> PairsStore:
        zarr = require("zarr", "io")
        path = Path(path)
        if path.exists():
            shutil.rmtree(path)
        pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
        n_t, n_p = grid.n_steps, len(pairs)
        g = zarr.open_group(str(path), mode="w", zarr_format=2)
        # first: whose layout this is, so one cut short (a full disk, Ctrl-C) is known for ours
        g.attrs["leosim_laying_out"] = fingerprint
        for name, v in VARIABLES.items():
            shape = (n_t, n_p) if len(v.dims) == 2 else (n_t,)
            chunks = (chunk_steps, n_p) if len(v.dims) == 2 else (chunk_steps,)
            a = g.create_array(name, shape=shape, chunks=chunks, dtype=v.dtype, fill_value=v.fill)
            a.attrs.update({**v.attrs, "_ARRAY_DIMENSIONS": list(v.dims)})
        names = np.array(sites.names)
        coords = {
            "time": (("time",), (grid.times - np.datetime64("1970-01-01", "ns")).astype(np.int64),
                     {"units": "nanoseconds since 1970-01-01", "calendar": "proleptic_gregorian"}),
            "t_s": (("time",), grid.offsets_s, {"units": "s"}),
            "src": (("pair",), names[pairs[:, 0]].astype(str), {}),
            "dst": (("pair",), names[pairs[:, 1]].astype(str), {}),
            "src_index": (("pair",), pairs[:, 0], {}),
            "dst_index": (("pair",), pairs[:, 1], {}),
        }
        for name, (dims, values, cattrs) in coords.items():
            a = g.create_array(name, shape=values.shape, dtype=values.dtype, chunks=values.shape, fill_value=None)
            a[...] = values
            a.attrs.update({**cattrs, "_ARRAY_DIMENSIONS": list(dims)})
        n_chunks = -(-n_t // chunk_steps)
        done = g.create_array("chunk_done", shape=(n_chunks,), chunks=(1,), dtype="|b1", fill_value=None)
        done[...] = False
        done.attrs.update({"long_name": "chunk written", "_ARRAY_DIMENSIONS": ["chunk"]})
        g.attrs.update({
            **{k: (str(v) if v is not None else "") for k, v in (attrs or {}).items()},
            "step_s": grid.step_s, "start": str(grid.start), "chunk_steps": int(chunk_steps),
            "leosim_fingerprint": fingerprint, "complete": False,
            "coordinates": "time t_s src dst src_index dst_index",
        })
        return cls(path)

    @staticmethod
    def layout_cut_short(path, fingerprint: str | None = None) -> bool:
        """Whether ``path`` is a store whose layout :meth:`create` began but never
        finished (no fingerprint yet): by the run with ``fingerprint``, or, with None, by
        any run or none that can be told (a directory without a readable zarr group)."""
        zarr = require("zarr", "io")
        try:
            attrs = dict(zarr.open_group(str(path), mode="r", zarr_format=2).attrs)
        except Exception:  # not even a zarr group: its .zgroup was never written
            return fingerprint is None and Path(path).is_dir()
        if "leosim_fingerprint" in attrs:
            return False
        return attrs.get("leosim_laying_out") == fingerprint if fingerprint is not None else True

    @classmethod
    def resume(cls, path, fingerprint: str) -> PairsStore:
        """An existing store to finish; refuses one that a different run wrote."""
        zarr = require("zarr", "io")
        path = Path(path)
        try:
            g = zarr.open_group(str(path), mode="r", zarr_format=2)
            found = g.attrs.get("leosim_fingerprint")
        except Exception:  # not a zarr group at all
            found = None
        if found is None:
            raise ParameterError(
                f"cannot resume {str(path)!r}: it is not a leosim output store; expected the store of an interrupted "
                "run (or run without --resume to start afresh)"
            )
        if found != fingerprint:
            raise ParameterError(
                f"cannot resume {str(path)!r}: it was written by a different run (fingerprint {found[:12]}, this run "
                f"{fingerprint[:12]}); expected the same scenario, settings and leosim version. Nothing was changed"
            )
        return cls(path)

    def _group(self, mode: str):
        zarr = require("zarr", "io")
        return zarr.open_group(str(self.path), mode=mode, zarr_format=2)

    @property
    def chunk_steps(self) -> int:
        """Steps per chunk, as the store was laid out."""
        return int(self._group("r").attrs["chunk_steps"])

    def done(self) -> set[int]:
        """First steps of the chunks already written."""
        g = self._group("r")
        step = int(g.attrs["chunk_steps"])
        return {int(k) * step for k in np.flatnonzero(g["chunk_done"][...])}

    def write(self, ch: PairChunk) -> None:
        """Write one chunk's region, then mark it done (a crash in between redoes it)."""
        g = self._group("r+")
        for name, v in VARIABLES.items():
            g[name][ch.i0:ch.i1] = v.values(ch)
        g["chunk_done"][ch.i0 // int(g.attrs["chunk_steps"])] = True

    def finish(self) -> None:
        self._group("r+").attrs["complete"] = True


def open_pairs(path: str | Path):
    """Open a dataset written by :class:`PairsWriter` or :class:`PairsStore` as an ``xarray.Dataset``."""
    xr = require("xarray", "io")
    p = Path(path)
    if p.suffix.lower() == ".zarr":
        ds = xr.open_zarr(p, consolidated=False, zarr_format=2)
        names = [n for n in ("t_s", "src", "dst", "src_index", "dst_index") if n in ds.data_vars]
        return ds.set_coords(names) if names else ds
    return xr.open_dataset(p)
