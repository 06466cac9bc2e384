"""The layering of docs/design.md, enforced: core maths never imports the engine or adapters."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_import_contracts_hold():
    exe = shutil.which("lint-imports") or str(Path(sys.executable).parent / "lint-imports")
    if not Path(exe).exists():
        pytest.skip("import-linter is not installed (pip install -e '.[test]')")
    p = subprocess.run([exe, str(ROOT / ".importlinter")], capture_output=True, text=True, cwd=ROOT)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "0 broken" in p.stdout


def test_public_names_are_exported():
    import leosim

    for name in leosim.__all__:
        assert hasattr(leosim, name), name


def test_missing_extra_says_how_to_install_it():
    from leosim.errors import MissingExtraError, require

    with pytest.raises(MissingExtraError) as exc:
        require("leosim_no_such_package", "io")
    assert str(exc.value) == (
        "this needs the Python package 'leosim_no_such_package', which is not installed; "
        "install it with: pip install 'leosim[io]'"
    )


def test_core_import_does_not_load_heavy_extras():
    """``import leosim`` stays lean: xarray, zarr, netCDF4 and matplotlib load only when used."""
    code = "import sys, leosim; print(sorted(m for m in ('xarray', 'zarr', 'netCDF4', 'matplotlib') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
