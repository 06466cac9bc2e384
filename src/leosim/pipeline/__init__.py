"""Runs: the output directory (INCOMPLETE marker, overwrite, resume), fingerprints, sweeps."""
