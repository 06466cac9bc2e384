"""Write per-step pair results to disk as they arrive: zarr or netCDF via xarray.

The dataset has dimensions ``time`` and ``pair``; variables ``rtt_ms``, ``length_km``,
``hops``, ``path_hash`` (a fingerprint of the node sequence), ``path_changed`` (the path
differs from the previous step's; netCDF stores it as 0/1) and ``n_isl_up``; coordinates ``time``, ``t_s``, ``src``, ``dst`` (site names)
and the endpoints' coordinates. Each chunk is appended along ``time`` so memory stays
bounded by one chunk.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

from ._errors import ParameterError, require
from ._time import TimeGrid
from .engine import PairChunk
from .ground import GroundSegment


class PairsWriter:
    """Append :class:`~leosim.engine.PairChunk` results to ``OUT.zarr`` or ``OUT.nc``."""

    def __init__(self, path: str | Path, grid: TimeGrid, sites: GroundSegment, pairs: np.ndarray, attrs: dict | None = None):
        require("xarray", "io")
        self.path = Path(path)
        suffix = self.path.suffix.lower()
        if suffix not in (".zarr", ".nc"):
            raise ParameterError(f"output {str(self.path)!r} has suffix {suffix or 'none'!r}; expected OUT.zarr or OUT.nc")
        if not self.path.parent.exists():
            raise ParameterError(f"output directory {str(self.path.parent)!r} does not exist; expected an existing directory")
        self.kind = suffix
        self.grid, self.sites, self.pairs = grid, sites, np.asarray(pairs)
        self.attrs = {k: (str(v) if v is not None else "") for k, v in (attrs or {}).items()}
        self._nc = None
        self._written = 0
        self._last_hash: np.ndarray | None = None
        if self.kind == ".zarr" and self.path.exists():
            shutil.rmtree(self.path)
        if self.kind == ".nc" and self.path.exists():
            self.path.unlink()

    def _dataset(self, ch: PairChunk):
        import xarray as xr

        names = np.array(self.sites.names, dtype=object)
        prev = ch.path_hash[:1] if self._last_hash is None else self._last_hash[None, :]
        changed = ch.path_hash != np.concatenate([prev, ch.path_hash[:-1]])
        self._last_hash = ch.path_hash[-1].copy()
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
        ds = self._dataset(ch)
        if self.kind == ".zarr":
            require("zarr", "io")
            # Zarr format 2: its fixed-length unicode (the site names) is specified, which
            # format 3 has not done yet, and every zarr reader understands it
            if self._written == 0:
                ds.to_zarr(self.path, mode="w", consolidated=False, zarr_format=2)
            else:
                ds.to_zarr(self.path, append_dim="time", consolidated=False, zarr_format=2)
        else:
            self._write_nc(ds)
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


def open_pairs(path: str | Path):
    """Open a dataset written by :class:`PairsWriter` as an ``xarray.Dataset``."""
    xr = require("xarray", "io")
    p = Path(path)
    if p.suffix.lower() == ".zarr":
        return xr.open_zarr(p, consolidated=False)
    return xr.open_dataset(p)
