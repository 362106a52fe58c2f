"""The package as a user installs it: dependencies, public names, light imports."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~ \[;]", requirement.strip(), maxsplit=1)[0].lower()


def test_environment_yml_mirrors_pyproject() -> None:
    """environment.yml lists exactly the packages of pyproject.toml (core and every extra)."""
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = {_name(r) for r in project["dependencies"]}
    for extra in project["optional-dependencies"].values():
        wanted |= {_name(r) for r in extra}
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    listed = {
        _name(dep)
        for dep in env["dependencies"]
        if isinstance(dep, str) and _name(dep) not in {"python", "pip"}
    }
    pip_part = next(dep["pip"] for dep in env["dependencies"] if isinstance(dep, dict))
    assert listed == wanted
    assert "-e ." in pip_part


def test_public_names_import() -> None:
    """Everything in ``roomsim.__all__`` exists."""
    import roomsim

    missing = [name for name in roomsim.__all__ if not hasattr(roomsim, name)]
    assert missing == []


def test_running_a_scenario_does_not_import_matplotlib() -> None:
    """matplotlib is imported only by the drawing code."""
    code = (
        "import sys, roomsim\n"
        "from roomsim.runner import run_scenario\n"
        "from roomsim.scenario import load_scenario\n"
        f"run_scenario(load_scenario({str(ROOT / 'examples' / 'quickstart.yaml')!r}))\n"
        "print('matplotlib' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_design_api_names_are_at_the_top_level() -> None:
    """The names design.md uses are importable from ``roomsim`` itself, without
    loading matplotlib (the drawing code imports it when it draws)."""
    code = (
        "import sys, roomsim\n"
        "before = 'matplotlib' in sys.modules\n"
        "assert callable(roomsim.delivery_graph) and callable(roomsim.why_not)\n"
        "draw = roomsim.draw_delivery_graph\n"
        "print(before, draw.__name__)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "draw_delivery_graph"]
