"""The package's exceptions: one root class, one subclass per kind of bad input.

Every message says what was received, what was expected, and where (file and line
when the input came from a file), so the CLI can print it as is.
"""

from __future__ import annotations


class LeosimError(Exception):
    """Root of every error leosim raises on purpose."""


class ElementSetError(LeosimError, ValueError):
    """A TLE, OMM or Hypatia element set that cannot be read."""


class PlaceError(LeosimError, LookupError):
    """A place name or coordinate that does not resolve to a location."""


class GroundSegmentError(LeosimError, ValueError):
    """A ground-station or site file that cannot be read."""


class ParameterError(LeosimError, ValueError):
    """A parameter outside its valid range (duration, step, elevation, ...)."""


class ConstellationError(LeosimError, ValueError):
    """An unknown preset or an impossible constellation definition."""


class MissingExtraError(LeosimError, ImportError):
    """An optional part of leosim is used but its packages are not installed."""


def require(module: str, extra: str):
    """Import ``module`` or say which leosim extra installs it."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise MissingExtraError(
            f"this needs the Python package {module!r}, which is not installed; "
            f"install it with: pip install 'leosim[{extra}]'"
        ) from None
