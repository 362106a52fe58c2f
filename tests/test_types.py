"""The type hints hold: ``mypy`` (configured in pyproject.toml) finds no error in roomsim.

The whole package is checked, with the stub packages of the test extra; an
untyped third-party package (ipywidgets) is the only one skipped.
"""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_mypy_finds_no_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """``mypy`` run as the README says, from the project's root, reports success."""
    api = pytest.importorskip("mypy.api")
    monkeypatch.chdir(ROOT)
    out, err, status = api.run(["--config-file", str(ROOT / "pyproject.toml")])
    assert status == 0, out + err
    assert out.startswith("Success: no issues found")
