"""The API reference (docs/api/build.py, pdoc): every public name of
``roomsim`` on the package's page exactly once, with its numpydoc docstring."""

from __future__ import annotations

import importlib.util
import inspect
import re
from html import unescape
from pathlib import Path

import pytest

import roomsim

BUILD = Path(__file__).resolve().parent.parent / "docs" / "api" / "build.py"


def test_every_public_name_has_a_docstring() -> None:
    """What the reference shows: each name of ``roomsim.__all__`` resolves, and
    each class and function has a numpydoc docstring (a summary line)."""
    assert len(set(roomsim.__all__)) == len(roomsim.__all__)
    for name in roomsim.__all__:
        value = getattr(roomsim, name)
        if inspect.isclass(value) or inspect.isfunction(value):
            doc = inspect.getdoc(value) or ""
            assert doc.strip().splitlines()[0], name


@pytest.mark.slow
def test_the_reference_builds_and_lists_each_public_name_once(tmp_path: Path) -> None:
    """``python docs/api/build.py OUT`` writes the package page: one section per
    name of ``roomsim.__all__``, in that order, and no other; numpydoc
    sections are rendered (Cluster's parameters, doctest examples)."""
    pytest.importorskip("pdoc")
    spec = importlib.util.spec_from_file_location("api_build", BUILD)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    page = module.build(tmp_path)
    html = page.read_text(encoding="utf-8")
    sections = re.findall(r'<section id="([^"]+)">', html)
    assert sections == list(roomsim.__all__)
    assert "Parameters" in html and "Examples" in html
    text = unescape(re.sub(r"<[^>]+>", "", html))
    for name in ("Cluster", "why_not", "check"):
        summary = inspect.getdoc(getattr(roomsim, name)).splitlines()[0]
        assert summary.replace("``", "") in text, name
