"""Per-step pair results on disk, written as they are computed: zarr or netCDF.

The dataset has dimensions ``time`` and ``pair``; variables ``rtt_ms``, ``length_km``,
``hops``, ``path_hash`` (a fingerprint of the node sequence), ``path_changed`` (the path
differs from the previous step's; netCDF stores it as 0/1) and ``n_isl_up``; coordinates
``time``, ``t_s``, ``src``, ``dst`` (site names) and the endpoints' indices. Zarr stores
are laid out whole and written chunk by chunk by whoever computed the chunk
(:class:`PairsStore`); netCDF files are appended by the driver (:class:`PairsWriter`).
Either way memory stays bounded by a chunk. :func:`open_pairs` reads both with xarray.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

from leosim.core.time import TimeGrid
from leosim.engine.chunks import PairChunk
from leosim.errors import ParameterError, require
from leosim.ground.sites import GroundSegment


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
        self.kind = suffix
        self.grid, self.sites, self.pairs = grid, sites, np.asarray(pairs)
        self.attrs = {k: (str(v) if v is not None else "") for k, v in (attrs or {}).items()}
        self._nc = None
        self._written = 0
        if self.path.exists():
            self.path.unlink()

    def _dataset(self, ch: PairChunk):
        import xarray as xr

        names = np.array(self.sites.names, dtype=object)
        changed = ch.path_changed
        ds = xr.Dataset(
            {
                "rtt_ms": (("time", "pair"), ch.rtt_ms, {"long_name": "round-trip propagation time", "units": "ms"}),
                "length_km": (("time", "pair"), ch.length_km, {"long_name": "one-way path length", "units": "km"}),
                "hops": (("time", "pair"), ch.hops, {"long_name": "links on the path"}),
                "path_hash": (("time", "pair"), ch.path_hash, {"long_name": "fingerprint of the node sequence"}),
                "path_changed": (("time", "pair"), changed, {"long_name": "path differs from the previous step"}),
                "n_isl_up": (("time",), ch.n_isl_up, {"long_name": "laser links up"}),
            },
            coords={
                "time": self.grid.times[ch.i0:ch.i1],
                "t_s": (("time",), self.grid.offsets_s[ch.i0:ch.i1], {"units": "s"}),
            },
        )
        if self._written == 0:
            ds = ds.assign_coords(
                src=(("pair",), names[self.pairs[:, 0]].astype(str)),
                dst=(("pair",), names[self.pairs[:, 1]].astype(str)),
                src_index=(("pair",), self.pairs[:, 0]),
                dst_index=(("pair",), self.pairs[:, 1]),
            )
            ds.attrs.update(self.attrs, step_s=self.grid.step_s, start=str(self.grid.start))
        return ds

    def write(self, ch: PairChunk) -> None:
        if ch.i0 != self._written:
            raise RuntimeError(f"chunk starts at step {ch.i0}, expected {self._written}")
        self._write_nc(self._dataset(ch))
        self._written = ch.i1

    def _write_nc(self, ds) -> None:
        netCDF4 = require("netCDF4", "io")

        if self._nc is None:
            nc = netCDF4.Dataset(self.path, "w")
            nc.createDimension("time", None)
            nc.createDimension("pair", len(self.pairs))
            t = nc.createVariable("time", "i8", ("time",))
            t.units = f"nanoseconds since {np.datetime_as_string(self.grid.start, unit='ns')}"
            t.calendar = "proleptic_gregorian"
            nc.createVariable("t_s", "f8", ("time",)).units = "s"
            for name in ("rtt_ms", "length_km", "hops", "path_hash", "path_changed", "n_isl_up"):
                v = ds[name]
                dtype = "u1" if v.dtype == bool else v.dtype
                var = nc.createVariable(name, dtype, v.dims, zlib=True, complevel=1)
                for k, val in v.attrs.items():
                    var.setncattr(k, val)
            for name in ("src", "dst"):
                var = nc.createVariable(name, str, ("pair",))
                var[:] = np.asarray(ds[name].values, dtype=object)
            for name in ("src_index", "dst_index"):
                nc.createVariable(name, "i8", ("pair",))[:] = ds[name].values
            nc.setncatts(ds.attrs)
            self._nc = nc
        nc = self._nc
        i0, i1 = self._written, self._written + ds.sizes["time"]
        nc["time"][i0:i1] = (ds["time"].values - self.grid.start).astype("timedelta64[ns]").astype(np.int64)
        nc["t_s"][i0:i1] = ds["t_s"].values
        for name in ("rtt_ms", "length_km", "hops", "path_hash", "path_changed"):
            nc[name][i0:i1, :] = ds[name].values.astype(nc[name].dtype)
        nc["n_isl_up"][i0:i1] = ds["n_isl_up"].values
        nc.sync()

    def close(self) -> None:
        if self._nc is not None:
            self._nc.close()
            self._nc = None




# ----------------------------------------------------------------- region-write store
_VARIABLES = {
    # name: (dims, dtype, fill, attrs)
    "rtt_ms": (("time", "pair"), "<f4", np.nan, {"long_name": "round-trip propagation time", "units": "ms"}),
    "length_km": (("time", "pair"), "<f4", np.nan, {"long_name": "one-way path length", "units": "km"}),
    # no fill value for integers: readers would take it for "missing" and turn them to floats
    "hops": (("time", "pair"), "<i2", None, {"long_name": "links on the path"}),
    "path_hash": (("time", "pair"), "<u8", None, {"long_name": "fingerprint of the node sequence"}),
    "path_changed": (("time", "pair"), "|b1", None, {"long_name": "path differs from the previous step"}),
    "n_isl_up": (("time",), "<i4", None, {"long_name": "laser links up"}),
}


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
        for name, (dims, dtype, fill, vattrs) in _VARIABLES.items():
            shape = (n_t, n_p) if len(dims) == 2 else (n_t,)
            chunks = (chunk_steps, n_p) if len(dims) == 2 else (chunk_steps,)
            a = g.create_array(name, shape=shape, chunks=chunks, dtype=dtype, fill_value=fill)
            a.attrs.update({**vattrs, "_ARRAY_DIMENSIONS": list(dims)})
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

    def done(self) -> set[int]:
        """First steps of the chunks already written."""
        g = self._group("r")
        step = int(g.attrs["chunk_steps"])
        return {int(k) * step for k in np.flatnonzero(g["chunk_done"][...])}

    def write(self, ch: PairChunk) -> None:
        """Write one chunk's region, then mark it done (a crash in between redoes it)."""
        g = self._group("r+")
        for name in _VARIABLES:
            g[name][ch.i0:ch.i1] = getattr(ch, name)
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
