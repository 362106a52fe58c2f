"""Tools for large runs: ``roomsim generate``, progress bars, sweeps."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from roomsim.cli import main
from roomsim.generate import expected_deliveries, generate_scenario
from roomsim.runner import run_scenario
from roomsim.scenario import load_scenario, scenario_from_dict
from roomsim.sweep import expand_grid, load_sweep_spec, run_point


def test_generated_scenario_has_the_asked_shape_and_about_the_expected_deliveries(
    tmp_path: Path,
) -> None:
    """``roomsim generate`` writes a loadable scenario: the clients as one group spread
    over the nodes, each in 1 to 3 rooms; the run delivers about what it announced."""
    out = tmp_path / "big.json"
    result = CliRunner().invoke(
        main,
        [
            "generate",
            str(out),
            "--clients",
            "2000",
            "--nodes",
            "4",
            "--rooms",
            "50",
            "--rooms-per-client",
            "1-3",
            "--room-emits",
            "100",
            "--broadcasts",
            "2",
        ],
    )
    assert result.exit_code == 0, result.output
    scenario = load_scenario(out)
    clients = scenario.all_clients()
    assert len(clients) == 2000
    assert {c.node for c in clients} == {"n1", "n2", "n3", "n4"}
    assert all(1 <= len(c.rooms) <= 3 for c in clients)
    cluster = run_scenario(scenario)
    expected = expected_deliveries(2000, 50, (1, 3), 100, 2)
    assert 0.7 * expected < cluster.trace.tally.kinds["deliver"] < 1.3 * expected


def test_generate_is_deterministic_for_a_seed() -> None:
    """The same options and seed write the same scenario; another seed other emits."""
    a = generate_scenario(clients=50, rooms=10, room_emits=20, seed=1)
    b = generate_scenario(clients=50, rooms=10, room_emits=20, seed=1)
    c = generate_scenario(clients=50, rooms=10, room_emits=20, seed=2)
    assert a == b and a["timeline"] != c["timeline"]


def test_generate_refuses_more_rooms_per_client_than_rooms(tmp_path: Path) -> None:
    """Asking each client to join more rooms than exist is one line, exit 2."""
    result = CliRunner().invoke(
        main, ["generate", str(tmp_path / "x.json"), "--rooms", "2", "--rooms-per-client", "1-3"]
    )
    assert result.exit_code == 2
    assert "more than the 2 rooms" in result.output


def test_progress_bar_changes_nothing_in_the_run() -> None:
    """Running with a progress bar gives the very same trace as without."""
    data = generate_scenario(clients=200, nodes=2, rooms=10, room_emits=30, seed=3)
    plain = list(run_scenario(scenario_from_dict(data)).trace)
    shown = list(run_scenario(scenario_from_dict(data), progress=True).trace)
    assert plain == shown and plain


def test_sweep_grid_and_points() -> None:
    """A sweep is every grid combination times every seed, each one run's metrics."""
    points = expand_grid({"latency.adapter_ms": [1, 4], "cluster.nodes": [2, 3]}, seeds=2)
    assert len(points) == 8 and points[0] == {
        "latency.adapter_ms": 1,
        "cluster.nodes": 2,
        "seed": 0,
    }
    base = generate_scenario(clients=60, nodes=2, rooms=6, room_emits=10, broadcasts=1)
    slow = run_point(base, {"latency.adapter_ms": 4, "cluster.nodes": 3, "seed": 0})
    fast = run_point(base, {"latency.adapter_ms": 1, "cluster.nodes": 3, "seed": 0})
    assert slow["deliveries"] == fast["deliveries"] > 0
    assert slow["mean_latency_ms"] > fast["mean_latency_ms"]
    assert slow["received"] == 3 * slow["published"]  # classic: every node gets every copy


def test_sweep_spec_errors_are_one_line(tmp_path: Path) -> None:
    """A bad sweep spec is refused before anything runs, naming the file and key."""
    spec = tmp_path / "s.yaml"
    spec.write_text("scenario: nope.yaml\ngrid: {cluster.nodes: [2]}\n")
    result = CliRunner().invoke(main, ["sweep", str(spec), "--out", str(tmp_path / "r.csv")])
    assert result.exit_code == 2
    assert "nope.yaml" in result.output and "not found" in result.output
    spec.write_text("scenario: x.yaml\ngird: {}\n")
    result = CliRunner().invoke(main, ["sweep", str(spec)])
    assert result.exit_code == 2 and "gird" in result.output


@pytest.mark.slow
def test_sweep_on_dask_writes_one_table(tmp_path: Path) -> None:
    """``roomsim sweep`` runs grid x seeds on a local Dask cluster into one CSV."""
    pytest.importorskip("dask.distributed")
    base = tmp_path / "base.json"
    base.write_text(json.dumps(generate_scenario(clients=40, nodes=2, rooms=4, room_emits=5)))
    spec = tmp_path / "spec.yaml"
    spec.write_text(
        "scenario: base.json\ngrid: {latency.adapter_ms: [1, 3]}\nseeds: 2\nout: r.csv\n"
    )
    assert load_sweep_spec(spec).seeds == 2
    result = CliRunner().invoke(main, ["sweep", str(spec), "-q"])
    assert result.exit_code == 0, result.output
    lines = (tmp_path / "r.csv").read_text().splitlines()
    assert lines[0].startswith("latency.adapter_ms,seed,clients")
    assert len(lines) == 1 + 4
