"""Test-suite wiring shared by every test module."""

from __future__ import annotations

import pytest


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test played on the real Socket.IO (marked ``real``) takes seconds: it is
    ``slow`` too, so ``pytest -m "not slow"`` stays the quick loop."""
    for item in items:
        if item.get_closest_marker("real") is not None:
            item.add_marker(pytest.mark.slow)
