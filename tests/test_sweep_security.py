"""Sweeps on a local Dask cluster: reachable from this machine only, and gone when done.

Dask's scheduler and workers exchange pickles, so whoever can reach one of
their listeners can run code as the user: a sweep without ``--scheduler``
must listen on the loopback interface only, its dashboard included, and
leave no worker process behind however it ends.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

pytest.importorskip("dask.distributed")
psutil = pytest.importorskip("psutil")

pytestmark = pytest.mark.slow  # each starts a local Dask cluster (seconds)

from roomsim.generate import generate_scenario  # noqa: E402
from roomsim.sweep import sweep  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
LOOPBACK = {"127.0.0.1", "::1"}


def _listeners(seen: set[tuple[int, str, int]], done: threading.Event) -> None:
    """Every listening socket of this process and its children, until ``done``."""
    me = psutil.Process()
    while not done.is_set():
        for proc in [me, *me.children(recursive=True)]:
            try:
                for conn in proc.net_connections(kind="inet"):
                    if conn.status == psutil.CONN_LISTEN:
                        seen.add((proc.pid, conn.laddr.ip, conn.laddr.port))
            except psutil.Error:
                pass
        time.sleep(0.05)


def test_a_local_sweep_listens_on_the_loopback_interface_only(tmp_path: Path) -> None:
    """While a sweep runs, every socket it listens on (scheduler, workers,
    nannies, dashboard) is bound to 127.0.0.1, none to all interfaces."""
    base = tmp_path / "base.json"
    base.write_text(json.dumps(generate_scenario(clients=20, nodes=2, rooms=3, room_emits=3)))
    seen: set[tuple[int, str, int]] = set()
    done = threading.Event()
    watcher = threading.Thread(target=_listeners, args=(seen, done), daemon=True)
    watcher.start()
    try:
        table = sweep(base, {"latency.adapter_ms": [1, 2]}, 1, workers=2, progress=False)
    finally:
        done.set()
        watcher.join(timeout=10)
    assert len(table) == 2
    pids = {pid for pid, _, _ in seen}
    assert len(pids) >= 3, seen  # the scheduler's process and two workers were watched
    assert {ip for _, ip, _ in seen} <= LOOPBACK, sorted(seen)


def _spec(folder: Path, emits: int, seeds: int) -> Path:
    data = generate_scenario(clients=6000, nodes=2, rooms=10, room_emits=emits)
    (folder / "base.json").write_text(json.dumps(data))
    path = folder / "spec.yaml"
    path.write_text(
        f"scenario: base.json\ngrid: {{latency.adapter_ms: [1, 2]}}\nseeds: {seeds}\nout: r.csv\n"
    )
    return path


@pytest.fixture(scope="module")
def spec(tmp_path_factory) -> Path:
    """A sweep of eight runs that take a few seconds each."""
    return _spec(tmp_path_factory.mktemp("sweep"), 10_000, 4)


def _default_ctrl_c() -> None:
    """In the child: SIGINT as a terminal gives it (a test runner may ignore it)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _answers_ctrl_c(pid: int) -> bool:
    """Whether process ``pid`` no longer ignores SIGINT (it does while Dask starts)."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("SigIgn:"):
                return not int(line.split()[1], 16) >> (signal.SIGINT - 1) & 1
    return True


def _sweep_process(spec: Path) -> tuple[subprocess.Popen, set[int]]:
    """``roomsim sweep SPEC`` in its own session (as a terminal runs it), once its
    workers are up; returns the process and the pids of its descendants."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "roomsim.cli", "sweep", str(spec), "-q"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        preexec_fn=_default_ctrl_c,
    )
    parent = psutil.Process(proc.pid)
    kids: set[int] = set()
    end = time.monotonic() + 60
    while time.monotonic() < end and proc.poll() is None:
        children = parent.children(recursive=True)
        kids |= {c.pid for c in children}
        listening = []
        for child in children:
            try:
                if any(c.status == psutil.CONN_LISTEN for c in child.net_connections("inet")):
                    listening.append(child)
            except psutil.Error:
                pass
        if listening and _answers_ctrl_c(proc.pid):  # the cluster is up
            break
        time.sleep(0.05)
    time.sleep(0.5)
    kids |= {c.pid for c in parent.children(recursive=True)} if proc.poll() is None else set()
    return proc, kids


def _left_behind(pids: set[int], grace: float = 10) -> list[int]:
    end = time.monotonic() + grace
    while True:
        alive = []
        for pid in pids:
            try:
                if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                    alive.append(pid)
            except psutil.NoSuchProcess:
                pass
        if not alive or time.monotonic() > end:
            return alive
        time.sleep(0.1)


def test_a_finished_sweep_leaves_no_process_behind(tmp_path: Path) -> None:
    """After ``roomsim sweep`` ends, none of the processes it started is alive."""
    spec = _spec(tmp_path, 200, 1)
    proc, kids = _sweep_process(spec)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    assert len((spec.parent / "r.csv").read_text().splitlines()) == 1 + 2
    assert kids and _left_behind(kids) == []


@pytest.mark.parametrize(
    ("signum", "status", "name"),
    [
        (signal.SIGINT, 130, "Ctrl-C"),
        (signal.SIGTERM, 143, "SIGTERM"),
    ],
)
def test_a_stopped_sweep_says_so_and_leaves_no_process_behind(
    spec: Path, signum: int, status: int, name: str
) -> None:
    """Ctrl-C (to the whole process group, as a terminal sends it) or SIGTERM
    stops a sweep: one line, exit 130 (143), no results file, no temporary
    file, and no worker process left."""
    out = spec.parent / "r.csv"
    out.unlink(missing_ok=True)
    proc, kids = _sweep_process(spec)
    assert proc.poll() is None, proc.communicate()
    if signum == signal.SIGINT:
        os.killpg(proc.pid, signum)
    else:
        proc.send_signal(signum)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == status, err
    lines = err.strip().splitlines()
    assert lines == [f"roomsim: stopped by {name} during the sweep; {out}: nothing written"], err
    assert not out.exists() and not [p for p in os.listdir(spec.parent) if p.endswith(".part")]
    assert _left_behind(kids) == []


def test_a_failing_sweep_closes_its_workers(tmp_path: Path, monkeypatch) -> None:
    """A sweep that fails after its cluster started raises its own error and
    leaves none of its worker processes alive."""
    import dask.distributed

    base = tmp_path / "base.json"
    base.write_text(json.dumps(generate_scenario(clients=20, nodes=2, rooms=3, room_emits=3)))
    me = psutil.Process()
    before = {c.pid for c in me.children(recursive=True)}
    started: dict[int, str] = {}

    def failing(futures, *args, **kwargs):
        started.update({c.pid: " ".join(c.cmdline()) for c in me.children(recursive=True)})
        raise RuntimeError("lost the scheduler")

    monkeypatch.setattr(dask.distributed, "as_completed", failing)
    with pytest.raises(RuntimeError, match="lost the scheduler"):
        sweep(base, {"latency.adapter_ms": [1, 2]}, 1, workers=2, progress=False)
    workers = {
        pid for pid, cmd in started.items() if pid not in before and "resource_tracker" not in cmd
    }
    assert len(workers) == 2
    assert _left_behind(workers) == []
