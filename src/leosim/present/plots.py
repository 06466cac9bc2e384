"""What every plotting adapter needs: matplotlib without a screen, and a PNG written
with a clear error when the path is not writable."""

from __future__ import annotations

from pathlib import Path

from leosim.errors import ParameterError, require


def pyplot():
    """``matplotlib.pyplot`` on the Agg backend; says which extra to install if missing."""
    mpl = require("matplotlib", "plot")
    mpl.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_png(fig, path: Path) -> None:
    """Write ``fig`` to ``path`` and close it; an unwritable path is a ParameterError."""
    plt = pyplot()
    try:
        fig.savefig(path, dpi=120, bbox_inches="tight")
    except OSError as exc:
        raise ParameterError(f"cannot write map {str(path)!r}: {exc.strerror}; expected a writable .png path") from None
    finally:
        plt.close(fig)
