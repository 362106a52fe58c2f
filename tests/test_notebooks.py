"""Every notebook runs top to bottom, headless, without an error, and shows its figures.

Notebooks are committed without outputs; this executes them in a fresh
kernel with matplotlib's inline backend, as Jupyter shows them to a student,
so every figure is really rendered (to a PNG output) and counted: a notebook
that silently stops drawing fails here.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("[0-9]*.ipynb"))

#: How many PNG figures each notebook shows when run top to bottom: one per
#: plt.subplots(...) in its cells (counted in the source, not from a run).
EXPECTED_FIGURES: dict[str, int] = {
    "01_rooms_join_leave": 1,
    "02_to_in_and_union": 2,
    "03_broadcasting_from_a_socket": 1,
    "04_default_room_and_private_messages": 1,
    "05_use_cases_devices_and_projects": 2,
    "06_disconnection": 2,
    "07_several_servers_and_redis": 2,
    "08_adapter_costs": 3,
    "09_failures": 4,
    "10_scenario_files_traces_sweeps": 2,
    "11_sizing_a_cluster": 3,
}


def _real_socketio_here() -> bool:
    from roomsim.real.tools import missing

    return missing("redis") is None


#: notebook 10 plays its scenario on the real Socket.IO too (one more delivery
#: graph) where Node.js, its packages and redis-server are there, as in CI
if _real_socketio_here():
    EXPECTED_FIGURES["10_scenario_files_traces_sweeps"] += 1

INLINE = "module://matplotlib_inline.backend_inline"


def execute(path: Path, monkeypatch: pytest.MonkeyPatch):
    """Run the notebook at ``path`` in a fresh kernel with the inline backend."""
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    monkeypatch.setenv("MPLBACKEND", INLINE)
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        nb, timeout=180, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    )
    client.execute()
    return nb


def figures(nb) -> int:
    """The PNG images among the notebook's outputs."""
    return sum(
        1
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.get("outputs", [])
        if "image/png" in out.get("data", {})
    )


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_and_shows_its_figures(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The notebook executes without error in a fresh kernel, and shows as many figures
    as it draws."""
    nb = execute(path, monkeypatch)
    errors = [
        out
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.get("outputs", [])
        if out.get("output_type") == "error"
    ]
    assert errors == []
    assert figures(nb) == EXPECTED_FIGURES[path.stem]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_committed_without_outputs(path: Path) -> None:
    """Notebooks in the repository carry no outputs or execution counts."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    dirty = [
        i
        for i, cell in enumerate(nb["cells"])
        if cell["cell_type"] == "code" and (cell.get("outputs") or cell.get("execution_count"))
    ]
    assert dirty == []


def test_there_are_notebooks() -> None:
    """The course starts with notebook 01."""
    assert NOTEBOOKS and NOTEBOOKS[0].name.startswith("01_")


def test_every_notebook_has_an_expected_figure_count() -> None:
    """A new notebook needs its figure count here."""
    assert sorted(EXPECTED_FIGURES) == [p.stem for p in NOTEBOOKS]
