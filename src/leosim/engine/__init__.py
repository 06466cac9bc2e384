"""The engine: runs the network over a time grid in chunks, on an executor (serial, forked
processes, Dask), and streams each chunk into a store (zarr or netCDF)."""
