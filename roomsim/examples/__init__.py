"""The example scenarios that ship with roomsim.

Each is a scenario file of this folder (``quickstart.yaml``, ...; the large
generated one is ``sizing/100_nodes_rooms_of_10.json``), named by its path
without the suffix.  ``roomsim examples`` lists them and ``roomsim examples
copy NAME DIR`` writes one where a user can edit it.  In a source checkout
the top-level ``examples/`` folder is this folder; the expected traces of the
tests (``golden/``) live here too but are not installed.

Examples
--------
>>> "quickstart" in names()
True
>>> describe("quickstart")
'two rooms and a private message'
>>> path("quickstart").name
'quickstart.yaml'
"""

from __future__ import annotations

import json
import sys
from importlib import resources
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    if sys.version_info >= (3, 11):
        from importlib.resources.abc import Traversable
    else:
        from importlib.abc import Traversable

__all__ = ["describe", "names", "path"]

_SUFFIXES = (".yaml", ".yml", ".json")


def _files() -> dict[str, Traversable]:
    root = resources.files(__name__)
    found: dict[str, Traversable] = {}
    for folder, prefix in ((root, ""), (root / "sizing", "sizing/")):
        if not folder.is_dir():
            continue
        for entry in folder.iterdir():
            stem, dot, suffix = entry.name.rpartition(".")
            if entry.is_file() and dot and f".{suffix}" in _SUFFIXES:
                found[prefix + stem] = entry
    return dict(sorted(found.items()))


def names() -> list[str]:
    """The names of the shipped examples, sorted."""
    return list(_files())


def path(name: str) -> Traversable:
    """The file of example ``name``; ``KeyError`` when there is none."""
    return _files()[name]


def describe(name: str) -> str:
    """One line about example ``name``: its top-level ``name``, else its first comment."""
    text = path(name).read_text(encoding="utf-8")
    if path(name).name.endswith(".json"):
        title = json.loads(text).get("name")
        return str(title) if title else name
    for line in text.splitlines():
        if line.startswith("name:"):
            return line.partition(":")[2].split(" #")[0].strip().strip("'\"")
    for line in text.splitlines():
        if line.startswith("#"):
            return line.lstrip("# ").strip()
    return name
