"""The layers of design.md hold: every module imports, and none reaches up.

The rule (design.md, "Layers and where they live"): a module may import its
own layer and the layers below it, never one above.  From the bottom:

* ``base``: ids, latency distributions, packets, the room registry,
  reconnection and recovery rules, the scheduler helpers, the trace and its
  vocabulary -- no Socket.IO object, no cluster;
* ``scenario``: the file format, plain data (no SimPy);
* ``model``: the Socket.IO objects (server, namespace, socket, client,
  broadcast operator), the adapters, the broker and the client links --
  they never import the cluster that wires them;
* ``cluster``: the wiring and the public entry point;
* ``analysis``: reads traces only (no model, no cluster, no SimPy);
* ``play``: playing a scenario on a cluster, comparisons, sweeps, summaries;
* ``drawing``: analysis results rendered with matplotlib;
* ``top``: the command line, the notebook explorer and exercises, the package itself.

matplotlib is imported only by drawing code (``roomsim/drawing`` and the
notebook explorer), and there only inside functions: importing every module
of roomsim loads no matplotlib.  Imports are read with :mod:`ast`, those
under ``if TYPE_CHECKING:`` and inside functions included: a type-only
import is still a dependency on the layer above.
"""

from __future__ import annotations

import ast
import pkgutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import roomsim

PACKAGE = Path(roomsim.__file__).resolve().parent

#: layer -> the modules in it (a name ending in ``.*``: the package and everything in it)
LAYERS: dict[str, tuple[str, ...]] = {
    "base": (
        "roomsim._gc",  # when the garbage collector looks at long-lived objects
        "roomsim._sched",
        "roomsim.ids",
        "roomsim.latency",
        "roomsim.packet",
        "roomsim.rooms",
        "roomsim.reconnect",
        "roomsim.recovery",
        "roomsim.trace",
        "roomsim.trace_parquet",  # the trace as Parquet (pyarrow, imported inside functions)
        "roomsim.vocabulary",
        "roomsim.profile",  # cost profiles (costs:)
        "roomsim.loop",  # a node's event loop: busy-until arithmetic
        "roomsim.profiles.*",  # the packaged default profile
        "roomsim.outputs",  # writing output files safely (arrives with the output-paths work)
        "roomsim.examples.*",  # the packaged example scenarios (arrives with the CLI work)
    ),
    "scenario": ("roomsim.scenario.*",),
    "model": (
        "roomsim.broker",
        "roomsim.network",
        "roomsim.broadcast",
        "roomsim.socket",
        "roomsim.namespace",
        "roomsim.server",
        "roomsim.client",
        "roomsim.node",
        "roomsim.adapters.*",
    ),
    "cluster": ("roomsim.cluster",),
    "analysis": ("roomsim.analysis.*",),
    "play": (
        "roomsim.runner",
        "roomsim.compare",
        "roomsim.sweep",
        "roomsim.summary",
        "roomsim.generate",
        "roomsim.capacity",  # roomsim capacity: the highest load within an objective
    ),
    "drawing": ("roomsim.drawing.*",),
    "top": (
        "roomsim",
        "roomsim.cli",
        "roomsim.draw_commands",
        "roomsim.capacity_command",  # roomsim capacity
        "roomsim.explorer",
        "roomsim.exercises.*",
        "roomsim.__main__",  # ``python -m roomsim`` (arrives with the CLI work)
        "roomsim.real.*",  # ``roomsim real``: the real Socket.IO beside the model
    ),
}

#: layer -> the layers it may import (its own included)
MAY_IMPORT: dict[str, set[str]] = {
    "base": {"base"},
    "scenario": {"scenario", "base"},
    "model": {"model", "base"},
    "cluster": {"cluster", "model", "base"},
    "analysis": {"analysis", "base"},
    "play": {"play", "cluster", "model", "scenario", "analysis", "base"},
    "drawing": {"drawing", "analysis", "base"},
    "top": set(LAYERS),
}

#: third-party packages a layer must not import
FORBIDDEN: dict[str, set[str]] = {
    "scenario": {"simpy", "matplotlib"},
    "analysis": {"simpy", "matplotlib"},
}
#: the only modules that may import matplotlib (inside functions only)
DRAWING_CODE = ("roomsim.drawing.*", "roomsim.explorer")

#: Imports that break the rule (none since each node has its context,
#: roomsim.node).  The test fails on a stale entry too, so the list only shrinks.
KNOWN_REACH_UPS: set[tuple[str, str]] = set()

#: Model modules that reach into their cluster through an attribute
#: (``nsp.cluster.new_msg_id``, ...): none, a node's objects read its context
#: (roomsim.node.NodeContext) instead (a stale entry fails the test).
KNOWN_CLUSTER_ATTRIBUTE_USERS: set[str] = set()


def modules() -> Iterator[tuple[str, Path]]:
    """Every module of the package, with its file."""
    yield "roomsim", PACKAGE / "__init__.py"
    for info in pkgutil.walk_packages([str(PACKAGE)], prefix="roomsim."):
        spec = info.module_finder.find_spec(info.name, None)  # type: ignore[call-arg]
        assert spec is not None and spec.origin is not None
        yield info.name, Path(spec.origin)


MODULES = dict(modules())


def layer_of(module: str) -> str:
    for layer, members in LAYERS.items():
        for member in members:
            if member.endswith(".*"):
                package = member[:-2]
                if module == package or module.startswith(package + "."):
                    return layer
            elif module == member:
                return layer
    raise AssertionError(f"{module} is in no layer: add it to LAYERS in tests/test_layers.py")


def in_group(module: str, group: tuple[str, ...]) -> bool:
    return any(
        module == m or (m.endswith(".*") and (module + ".").startswith(m[:-1])) for m in group
    )


def imports(module: str, path: Path) -> Iterator[tuple[str, int, bool]]:
    """(imported module, line, at module level) for every import of ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    top_level = {id(node) for node in tree.body}
    # an ``if TYPE_CHECKING:`` block at the top counts as the top
    for node in tree.body:
        if isinstance(node, ast.If):
            top_level |= {id(child) for child in node.body}
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno, id(node) in top_level
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                name = ".".join([*base, node.module] if node.module else base)
            else:
                name = node.module or ""
            yield name, node.lineno, id(node) in top_level
            for alias in node.names:  # ``from roomsim import cluster`` imports a module
                if f"{name}.{alias.name}" in MODULES:
                    yield f"{name}.{alias.name}", node.lineno, id(node) in top_level


def own_module(name: str) -> str | None:
    """The roomsim module an import name refers to (the longest known prefix)."""
    while name:
        if name in MODULES:
            return name
        name = name.rpartition(".")[0]
    return None


def bad_imports(module: str, path: Path) -> Iterator[tuple[str, int]]:
    """(imported module, line) for each import of a layer ``module`` may not use."""
    layer = layer_of(module)
    for name, line, _ in imports(module, path):
        target = own_module(name) if name.startswith("roomsim") else None
        if target is not None and layer_of(target) not in MAY_IMPORT[layer]:
            yield target, line


def reach_ups() -> dict[tuple[str, str], str]:
    """Every import of a layer the importer may not use: (importer, imported) -> where."""
    return {
        (module, target): f"{path.relative_to(PACKAGE.parent)}:{line}"
        for module, path in MODULES.items()
        for target, line in bad_imports(module, path)
    }


def test_every_module_is_in_a_layer() -> None:
    """A new module must be placed in a layer before it can be tested.

    (LAYERS also names a few modules that other branches add: placing them
    here keeps the rule in force when they are merged.)"""
    assert len(MODULES) > 50
    for module in MODULES:
        layer_of(module)


def test_lower_layers_never_import_higher_ones() -> None:
    """No module imports a layer above its own (except the known ones, which only shrink)."""
    found = reach_ups()
    new = {pair: where for pair, where in found.items() if pair not in KNOWN_REACH_UPS}
    assert new == {}, "a lower layer imports a higher one"
    stale = KNOWN_REACH_UPS - set(found)
    assert stale == set(), "these imports are gone: remove them from KNOWN_REACH_UPS"


def test_the_model_does_not_reach_into_its_cluster() -> None:
    """Below the cluster, ``.cluster`` is read only by the modules known to do so today."""
    users = set()
    for module, path in MODULES.items():
        if layer_of(module) != "model":  # a scenario has a `cluster` section: data, not a reach
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        if any(isinstance(n, ast.Attribute) and n.attr == "cluster" for n in ast.walk(tree)):
            users.add(module)
    assert users - KNOWN_CLUSTER_ATTRIBUTE_USERS == set(), "a new reach into the cluster"
    stale = KNOWN_CLUSTER_ATTRIBUTE_USERS - users
    assert stale == set(), "no longer reach into the cluster: remove from the known list"


def test_the_walk_finds_a_planted_reach_up(tmp_path: Path) -> None:
    """The walk is not blind: a type-only import of the cluster, written relative,
    in an adapter module, is a reach-up; an import of the broker is not."""
    planted = tmp_path / "planted.py"
    planted.write_text(
        "from typing import TYPE_CHECKING\n"
        "from roomsim.broker import Broker\n"
        "if TYPE_CHECKING:\n"
        "    from ..cluster import Cluster\n"
    )
    assert list(bad_imports("roomsim.adapters.planted", planted)) == [("roomsim.cluster", 4)]


@pytest.mark.parametrize(("layer", "banned"), sorted(FORBIDDEN.items()))
def test_layers_keep_off_third_party_packages(layer: str, banned: set[str]) -> None:
    """The scenario is plain data and the analysis reads traces: neither needs SimPy."""
    found = [
        (module, name)
        for module, path in MODULES.items()
        if layer_of(module) == layer
        for name, _, _ in imports(module, path)
        if name.split(".")[0] in banned
    ]
    assert found == []


def test_matplotlib_only_in_drawing_code_and_only_inside_functions() -> None:
    """No module outside the drawing code imports matplotlib; the drawing code does so
    inside its functions, so that ``import roomsim.drawing`` stays light."""
    outside, at_top = [], []
    for module, path in MODULES.items():
        for name, line, top in imports(module, path):
            if name.split(".")[0] != "matplotlib":
                continue
            if not in_group(module, DRAWING_CODE):
                outside.append((module, line))
            elif top:
                at_top.append((module, line))
    assert outside == []
    assert at_top == []


def test_every_module_imports_without_matplotlib() -> None:
    """Each module of roomsim imports in a fresh interpreter, and all of them together
    load no matplotlib (the drawing code imports it when it draws)."""
    code = (
        "import importlib, sys\n"
        f"names = {sorted(MODULES)!r}\n"
        "for name in names:\n"
        "    importlib.import_module(name)\n"
        "print(len(names), 'matplotlib' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=PACKAGE.parent
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == [str(len(MODULES)), "False"]


def test_the_architecture_page_lists_the_same_layers() -> None:
    """docs/architecture.md's layer table names each layer's modules as LAYERS does
    (packages as ``name/``; the submodules in brackets after them are not compared)."""
    import re

    text = (PACKAGE.parent / "docs" / "architecture.md").read_text(encoding="utf-8")
    documented: dict[str, set[str]] = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.split("|")[1:-1]]
        if len(cells) == 3 and cells[0] in LAYERS:
            outside = re.sub(r"\([^)]*\)", "", cells[1])
            documented[cells[0]] = set(re.findall(r"`([^`]+)`", outside))

    def short(member: str) -> str:
        if member == "roomsim":
            return "roomsim/__init__"
        name = member.removeprefix("roomsim.")
        return name[:-2] + "/" if name.endswith(".*") else name

    assert documented == {layer: {short(m) for m in members} for layer, members in LAYERS.items()}
