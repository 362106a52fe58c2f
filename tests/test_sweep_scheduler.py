"""``roomsim sweep --scheduler``: a sweep runs on an existing Dask cluster.

The test starts ``dask scheduler`` and ``dask worker`` as separate processes
on the loopback interface, points ``roomsim sweep --scheduler`` at them, and
checks the table is the one a local sweep gives; the cluster is left
running afterwards (the sweep does not own it), and stopped by the test.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("dask.distributed")
pd = pytest.importorskip("pandas")

pytestmark = pytest.mark.slow  # starts a Dask scheduler and a worker (seconds)

from roomsim.generate import generate_scenario  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def _dask(*args: str, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    exe = shutil.which("dask")
    if exe is None:
        pytest.skip("the dask command is not installed")
    return subprocess.Popen([exe, *args], env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_a_sweep_runs_on_an_existing_scheduler_and_worker(tmp_path: Path) -> None:
    """``roomsim sweep SPEC --scheduler ADDRESS`` sends its runs to a scheduler
    and worker started apart (``dask scheduler``, ``dask worker`` on 127.0.0.1):
    the table has one row per grid point and seed, in grid order, equal to
    the rows the same runs give one after another; the worker is still alive
    after the sweep (the sweep closes only its own client)."""
    from roomsim.sweep import expand_grid, run_point

    data = generate_scenario(clients=40, nodes=2, rooms=3, room_emits=4)
    (tmp_path / "base.json").write_text(json.dumps(data))
    spec = tmp_path / "spec.yaml"
    spec.write_text(
        "scenario: base.json\ngrid: {latency.adapter_ms: [1, 3]}\nseeds: 2\nout: r.csv\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg"}
    address_file = tmp_path / "scheduler.json"
    scheduler = _dask(
        "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
        "--scheduler-file", str(address_file), env=env, log=tmp_path / "scheduler.log",
    )  # fmt: skip
    worker = None
    try:
        end = time.monotonic() + 60
        while not address_file.exists() or not address_file.read_text().strip():
            assert scheduler.poll() is None, (tmp_path / "scheduler.log").read_text()
            assert time.monotonic() < end, "the scheduler did not start"
            time.sleep(0.1)
        address = json.loads(address_file.read_text())["address"]
        assert address.startswith("tcp://127.0.0.1:")
        worker = _dask(
            "worker", "--scheduler-file", str(address_file), "--host", "127.0.0.1",
            "--nthreads", "1", "--nworkers", "1", "--no-dashboard",
            env=env, log=tmp_path / "worker.log",
        )  # fmt: skip
        done = subprocess.run(
            [sys.executable, "-m", "roomsim.cli", "sweep", str(spec), "--scheduler", address, "-q"],
            env=env,
            capture_output=True,
            text=True,
            timeout=240,
        )
        assert done.returncode == 0, done.stderr + (tmp_path / "worker.log").read_text()
        table = pd.read_csv(tmp_path / "r.csv")
        points = expand_grid({"latency.adapter_ms": [1, 3]}, 2)
        assert table[["latency.adapter_ms", "seed"]].values.tolist() == [
            [p["latency.adapter_ms"], p["seed"]] for p in points
        ]
        expected = [run_point(data, p, str(tmp_path / "base.json")) for p in points]
        assert table["deliveries"].tolist() == [row["deliveries"] for row in expected]
        assert table["deliveries"].min() > 0
        assert worker.poll() is None and scheduler.poll() is None
    finally:
        if worker is not None:
            _stop(worker)
        _stop(scheduler)
