"""Every exception leosim raises on purpose, in one place.

Each message says what was received, what was expected, and where (``file:line``, or the
option or key path) when the input came from a file or a command line, so the CLI prints
it as it is, in one line, and exits with status 1. The tree::

    LeosimError                       root of everything leosim raises on purpose
    +-- ParameterError (ValueError)   a parameter or option outside its valid range
    |   +-- PolicyError               a service-policy file or value that cannot be used
    |   +-- JammerError               a jammer definition or file
    |   +-- SensorError               a sensor definition, file or layout
    +-- InputFileError (ValueError)   a file that cannot be read as what it should be
    |   +-- ElementSetError           a TLE, OMM or Hypatia element set
    |   +-- GroundSegmentError        a ground-station or site file
    +-- ConstellationError (ValueError)  an unknown preset or an impossible constellation
    +-- PlaceError (LookupError)      a place name or coordinate that does not resolve
    +-- ScenarioError (ValueError)    a scenario file that cannot be read or does not validate
    +-- MissingExtraError (ImportError)  an optional part used without its packages installed
    +-- ExecutorError (RuntimeError)  an executor that cannot start (e.g. an unreachable scheduler)
    +-- EmulationError (RuntimeError) the emulated link cannot be built or run
    +-- ViewerError                   the 3D viewer cannot serve
        +-- ResultsDirError (ValueError)      not a finished results directory
        +-- PortInUseError (OSError)          the port is taken
        +-- ViewerAssetsError (FileNotFoundError)  CesiumJS is not vendored
        +-- RequestError (ValueError)         a bad request to the viewer's API

The second base class of each lets callers that do not know leosim catch the usual
Python category (``except ValueError``).
"""

from __future__ import annotations

import importlib


class LeosimError(Exception):
    """Root of every error leosim raises on purpose."""


class ParameterError(LeosimError, ValueError):
    """A parameter outside its valid range (duration, step, elevation, ...)."""


class PolicyError(ParameterError):
    """A policy file or policy value that cannot be used."""


class JammerError(ParameterError):
    """A jammer definition or file that cannot be used."""


class SensorError(ParameterError):
    """A sensor definition, file or layout that cannot be used."""


class InputFileError(LeosimError, ValueError):
    """A file that cannot be read as what it should be."""


class ElementSetError(InputFileError):
    """A TLE, OMM or Hypatia element set that cannot be read."""


class GroundSegmentError(InputFileError):
    """A ground-station or site file that cannot be read."""


class ConstellationError(LeosimError, ValueError):
    """An unknown preset or an impossible constellation definition."""


class PlaceError(LeosimError, LookupError):
    """A place name or coordinate that does not resolve to a location."""


class ScenarioError(LeosimError, ValueError):
    """A scenario file that cannot be read or does not validate."""


class MissingExtraError(LeosimError, ImportError):
    """An optional part of leosim is used but its packages are not installed."""


class ExecutorError(LeosimError, RuntimeError):
    """An executor that cannot start (an unreachable scheduler, a missing extra)."""


class EmulationError(LeosimError, RuntimeError):
    """The emulated link cannot be built or run (not root, no namespaces, a missing tool)."""


class ViewerError(LeosimError):
    """The viewer cannot serve what was asked."""


class ResultsDirError(ViewerError, ValueError):
    """A directory that is not the output of a finished ``leosim run``."""


class PortInUseError(ViewerError, OSError):
    """The port the viewer should listen on is taken."""


class ViewerAssetsError(ViewerError, FileNotFoundError):
    """CesiumJS is not vendored (``make assets``)."""


class RequestError(ViewerError, ValueError):
    """A request to the viewer's API with a bad parameter."""


def require(module: str, extra: str):
    """Import ``module`` or say which leosim extra installs it."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise MissingExtraError(
            f"this needs the Python package {module!r}, which is not installed; "
            f"install it with: pip install 'leosim[{extra}]'"
        ) from None


__all__ = [
    "ConstellationError", "ElementSetError", "EmulationError", "ExecutorError", "GroundSegmentError",
    "InputFileError", "JammerError", "LeosimError", "MissingExtraError", "ParameterError", "PlaceError",
    "PolicyError", "PortInUseError", "RequestError", "ResultsDirError", "ScenarioError", "SensorError",
    "ViewerAssetsError", "ViewerError", "require",
]
