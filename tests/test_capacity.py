"""roomsim capacity: the highest load within a latency objective, and what saturates."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from roomsim.capacity import capacity, parse_slo

#: one node, 10 clients, each everyone-broadcast costs 10 writes of 1 ms = 10 ms:
#: the node saturates at 100 broadcasts per second
BASE = {
    "seed": 1,
    "cluster": {"nodes": 1},
    "costs": {"write_ms": 1.0, "flush_ms": 0.0},
    "groups": [{"prefix": "u", "count": 10}],
    "load": [{"rate": 10, "duration": 10000, "start": 10}],
}


@pytest.mark.slow
def test_the_highest_rate_is_below_the_saturation_of_the_loop() -> None:
    """Queueing theory: a node busy 10 ms per broadcast cannot take 100/s; the
    highest rate meeting p99<60ms lies below 100/s and above 50/s (at 50/s a
    broadcast never waits: one every 20 ms), and the first failing point is named."""
    met, failed = capacity(BASE, parse_slo("p99<60ms"), steps=5)
    assert met is not None and failed is not None
    assert 50 <= met.value <= 100 < failed.value * 1.3
    assert met.latency["p99"] < 60 <= failed.latency["p99"]


@pytest.mark.slow
def test_capacity_command_names_what_saturates_first(tmp_path) -> None:
    """The command prints the highest load and says which loop saturates and why."""
    import yaml

    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(BASE))
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "roomsim.cli",
            "capacity",
            str(path),
            "--slo",
            "p99<60ms",
            "--steps",
            "3",
            "--json",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    result = json.loads(out.stdout)
    assert result["objective"] == "p99<60ms"
    assert 50 <= result["highest"]["value"] <= 100
    assert result["saturates_first"].startswith("node n1's event loop")
    assert "writing frames" in result["saturates_first"]


def test_capacity_refuses_a_scenario_without_costs(tmp_path) -> None:
    """Without a cost profile there is nothing to saturate: exit 2, one line."""
    path = tmp_path / "s.yaml"
    path.write_text("cluster: {nodes: 1}\nload: [{rate: 1, duration: 10}]\n")
    out = subprocess.run(
        [sys.executable, "-m", "roomsim.cli", "capacity", str(path), "--slo", "p99<5ms"],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 2
    assert out.stderr.strip().endswith("needs a cost profile (costs: default)")
    assert "Traceback" not in out.stderr


@pytest.mark.parametrize("bad", ["p99", "p99>3ms", "q99<3ms"])
def test_a_bad_objective_is_refused(bad: str) -> None:
    """An objective is a statistic, '<', a time."""
    with pytest.raises(ValueError, match="expected an objective"):
        parse_slo(bad)


@pytest.mark.slow
def test_parallel_bisection_on_dask_brackets_the_same_limit() -> None:
    """With workers, each step runs several points at once (Dask, the sweep extra):
    the bracket still holds the loop's limit of 100 broadcasts per second."""
    pytest.importorskip("dask.distributed")
    met, failed = capacity(BASE, parse_slo("p99<60ms"), steps=1, workers=2)
    assert met.value <= 100 < failed.value
    assert met.meets(parse_slo("p99<60ms")) and not failed.meets(parse_slo("p99<60ms"))
