"""Output paths: roomsim writes what the user asked for and never destroys anything else.

Each test plays a user (or a careless script) giving an output path that
is an input, a device, a FIFO, a link, a full or read-only disk, or stopping
a run midway, and checks what is left on disk, the exit status and the one
line said.  The rules are those of ``docs/safety.md`` ("Output paths").
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from roomsim.cli import main
from roomsim.generate import generate_scenario

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
QUICKSTART = EXAMPLES / "quickstart.yaml"
ROOT = Path(__file__).resolve().parent.parent


def invoke(*args: str):
    return CliRunner().invoke(main, [str(a) for a in args])


def cli(*args: str, **kwargs) -> subprocess.Popen:
    """``roomsim ARGS`` in its own process (this worktree's code first on the path)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg"}
    return subprocess.Popen(
        [sys.executable, "-m", "roomsim.cli", *map(str, args)],
        env=env,
        stdout=kwargs.pop("stdout", subprocess.PIPE),
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # as in a terminal
        **kwargs,
    )


def one_line_error(result) -> str:
    """The output of a refused command: exactly one line, starting ``roomsim:``, no traceback."""
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("roomsim: "), result.output
    assert "Traceback" not in result.output
    return lines[0]


def scenario_copy(tmp_path: Path) -> tuple[Path, bytes]:
    scenario = tmp_path / "S.yaml"
    scenario.write_bytes(QUICKSTART.read_bytes())
    return scenario, scenario.read_bytes()


def part_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".part"))


# -- an output that is an input --------------------------------------------


def test_a_trace_onto_its_own_scenario_is_refused(tmp_path: Path) -> None:
    """``run S.yaml --trace S.yaml`` (by its name, another spelling, a symbolic
    link or a hard link) is refused before running: one line, exit 2, the
    scenario untouched."""
    scenario, before = scenario_copy(tmp_path)
    (tmp_path / "sub").mkdir()
    (tmp_path / "link.jsonl").symlink_to(scenario)
    os.link(scenario, tmp_path / "hard.jsonl")
    for given in (
        scenario,
        tmp_path / "sub" / ".." / "S.yaml",
        tmp_path / "link.jsonl",
        tmp_path / "hard.jsonl",
    ):
        line = one_line_error(invoke("run", scenario, "--trace", given, "-q"))
        assert "--trace is the input" in line and str(given) in line
        assert scenario.read_bytes() == before
    assert part_files(tmp_path) == []


def test_pictures_and_the_trace_never_overwrite_the_scenario_or_each_other(tmp_path: Path) -> None:
    """``--out`` whose picture would be the scenario (a link named like a
    picture), or ``--trace`` onto one of the pictures: refused before running."""
    scenario, before = scenario_copy(tmp_path)
    pictures = tmp_path / "pics"
    pictures.mkdir()
    (pictures / "latency.png").symlink_to(scenario)
    line = one_line_error(invoke("run", scenario, "--out", pictures, "-q"))
    assert "latency.png" in line and "--out is the input" in line
    assert scenario.read_bytes() == before
    (pictures / "latency.png").unlink()
    line = one_line_error(
        invoke("run", scenario, "--out", pictures, "--trace", pictures / "timeline.png", "-q")
    )
    assert "would write the same file" in line
    assert list(pictures.iterdir()) == []


def test_a_picture_is_never_drawn_over_its_trace(tmp_path: Path) -> None:
    """``draw T.jsonl --out pic.png`` where ``pic.png`` links to the trace is refused."""
    trace = tmp_path / "t.jsonl"
    assert invoke("run", QUICKSTART, "--trace", trace, "-q").exit_code == 0
    before = trace.read_bytes()
    (tmp_path / "pic.png").symlink_to(trace)
    line = one_line_error(invoke("draw", trace, "--kind", "latency", "--out", tmp_path / "pic.png"))
    assert "--out is the input" in line and trace.read_bytes() == before


def test_a_sweep_never_writes_its_table_over_its_inputs(tmp_path: Path) -> None:
    """A sweep whose ``out`` (or ``--out``) is its spec or its scenario, here
    through a link, is refused before any worker starts; both files untouched."""
    base = tmp_path / "base.json"
    base.write_text(json.dumps(generate_scenario(clients=4, nodes=2, rooms=3, room_emits=1)))
    spec = tmp_path / "spec.yaml"
    spec.write_text("scenario: base.json\ngrid: {latency.adapter_ms: [1]}\nout: r.csv\n")
    (tmp_path / "r.csv").symlink_to(base)
    (tmp_path / "s.csv").symlink_to(spec)
    saved = base.read_bytes(), spec.read_bytes()
    start = time.monotonic()
    line = one_line_error(invoke("sweep", spec, "-q"))
    assert "r.csv: out is the input" in line and "base.json" in line
    line = one_line_error(invoke("sweep", spec, "--out", tmp_path / "s.csv", "-q"))
    assert "s.csv: --out is the input" in line
    assert time.monotonic() - start < 5  # no Dask cluster was started
    assert (base.read_bytes(), spec.read_bytes()) == saved


# -- devices, FIFOs, standard output, links ---------------------------------


def test_a_trace_to_a_character_device_writes_through_it(tmp_path: Path) -> None:
    """A character device (a private twin of ``/dev/null``) is opened and
    written, never replaced by a regular file."""
    null = tmp_path / "null"
    try:
        os.mknod(null, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    except (PermissionError, OSError):
        pytest.skip("cannot make a device node here (needs root)")
    result = invoke("run", QUICKSTART, "--trace", null, "-q")
    assert result.exit_code == 0, result.output
    assert stat.S_ISCHR(os.stat(null).st_mode)
    assert os.stat(null).st_rdev == os.makedev(1, 3)
    assert part_files(tmp_path) == []


def test_a_block_device_is_refused(tmp_path: Path) -> None:
    """A block device (a private twin of a loop disk) is never written: one line, exit 2."""
    disk = tmp_path / "disk"
    try:
        os.mknod(disk, stat.S_IFBLK | 0o600, os.makedev(7, 0))
    except (PermissionError, OSError):
        pytest.skip("cannot make a device node here (needs root)")
    line = one_line_error(invoke("run", QUICKSTART, "--trace", disk, "-q"))
    assert "it is a block device" in line
    assert stat.S_ISBLK(os.stat(disk).st_mode) and part_files(tmp_path) == []


def test_a_trace_to_a_fifo_goes_through_the_fifo(tmp_path: Path) -> None:
    """A FIFO stays a FIFO, and the reader at its other end gets the whole trace."""
    fifo = tmp_path / "trace.fifo"
    os.mkfifo(fifo)
    got: list[str] = []

    def read() -> None:
        with open(fifo, encoding="utf-8") as lines:
            got.extend(lines)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    result = invoke("run", QUICKSTART, "--trace", fifo, "-q")
    assert result.exit_code == 0, result.output
    reader.join(timeout=10)
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    records = [json.loads(line) for line in got]
    assert records and records[0]["kind"] == "connect"
    assert records == sorted(records, key=lambda r: r["t"])


@pytest.mark.parametrize("given", ["-", "/dev/fd/1"])
def test_a_trace_to_standard_output(given: str) -> None:
    """``--trace -`` (or a path that is standard output) prints the trace as
    JSON Lines on standard output; the summary and the checks go to standard
    error, so the output stays a valid trace."""
    proc = cli("run", QUICKSTART, "--trace", given)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    records = [json.loads(line) for line in out.splitlines()]
    assert {r["kind"] for r in records} >= {"connect", "emit", "deliver"}
    assert "checks: ok" in err and "two rooms" in err


def test_a_symlinked_trace_writes_the_target_and_keeps_the_link(tmp_path: Path) -> None:
    """``--trace link`` writes the link's target (made when missing); the link stays a link."""
    (tmp_path / "real").mkdir()
    link = tmp_path / "latest.jsonl"
    link.symlink_to(tmp_path / "real" / "run1.jsonl")
    assert invoke("run", QUICKSTART, "--trace", link, "-q").exit_code == 0
    assert link.is_symlink()
    first = (tmp_path / "real" / "run1.jsonl").read_text().splitlines()
    assert json.loads(first[0])["kind"] == "connect"
    assert invoke("run", QUICKSTART, "--trace", link, "--seed", "3", "-q").exit_code == 0
    assert (
        link.is_symlink() and (tmp_path / "real" / "run1.jsonl").read_text().splitlines() != first
    )
    assert part_files(tmp_path) == [] and part_files(tmp_path / "real") == []


# -- atomic files, failed and stopped runs -----------------------------------


def test_a_failed_run_keeps_the_previous_trace(tmp_path: Path, monkeypatch) -> None:
    """A run that fails midway leaves the previous good trace as it was and no temporary file."""
    trace = tmp_path / "t.jsonl"
    assert invoke("run", QUICKSTART, "--trace", trace, "-q").exit_code == 0
    good = trace.read_bytes()

    import roomsim.runner

    def broken(*args, **kwargs):
        kwargs["trace"].record(1, "connect", client="x", node="n1", sid="s")
        raise RuntimeError("a bug in the middle of the run")

    monkeypatch.setattr(roomsim.runner, "run_scenario", broken)
    result = invoke("run", QUICKSTART, "--trace", trace, "--seed", "5", "-q")
    assert isinstance(result.exception, RuntimeError)
    assert trace.read_bytes() == good
    assert part_files(tmp_path) == []


@pytest.fixture(scope="module")
def long_scenario(tmp_path_factory) -> Path:
    """A scenario that takes several seconds to run (to stop it midway)."""
    path = tmp_path_factory.mktemp("long") / "long.json"
    data = generate_scenario(clients=3000, nodes=2, rooms=10, room_emits=40_000)
    path.write_text(json.dumps(data))
    return path


def _started(folder: Path, proc: subprocess.Popen, timeout: float = 60) -> None:
    """Wait until the run has opened its temporary trace file and has run a little."""
    end = time.monotonic() + timeout
    while not part_files(folder):
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < end, "the run never started its trace"
        time.sleep(0.05)
    time.sleep(0.5)


@pytest.mark.parametrize(
    ("signum", "status", "name"),
    [
        (signal.SIGINT, 130, "Ctrl-C"),
        (signal.SIGTERM, 143, "SIGTERM"),
    ],
)
@pytest.mark.slow
def test_a_stopped_run_says_where_and_leaves_the_previous_trace(
    tmp_path: Path, long_scenario: Path, signum: int, status: int, name: str
) -> None:
    """Ctrl-C exits 130 (SIGTERM 143) with one line naming the simulated time
    reached; the temporary file is removed and the previous trace kept."""
    trace = tmp_path / "t.jsonl"
    trace.write_text('{"t":0,"kind":"connect"}\n')
    proc = cli("run", long_scenario, "--trace", trace, "-q")
    _started(tmp_path, proc)
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == status, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"roomsim: stopped by {name} at t="), err
    assert "ms of simulated time" in lines[0] and "previous" in lines[0]
    assert trace.read_text() == '{"t":0,"kind":"connect"}\n'
    assert part_files(tmp_path) == []


@pytest.mark.slow
def test_a_killed_runs_temporary_file_is_removed_next_time(
    tmp_path: Path, long_scenario: Path
) -> None:
    """SIGKILL cannot be caught, so its temporary file stays; the next trace
    written to the same path removes it (it names a process that is gone)."""
    trace = tmp_path / "t.jsonl"
    proc = cli("run", long_scenario, "--trace", trace, "-q")
    _started(tmp_path, proc)
    proc.kill()
    proc.communicate(timeout=60)
    stale = part_files(tmp_path)
    assert len(stale) == 1 and stale[0].startswith(".t.jsonl.")
    assert invoke("run", QUICKSTART, "--trace", trace, "-q").exit_code == 0
    assert part_files(tmp_path) == [] and trace.exists()


def test_a_live_runs_temporary_file_is_left_alone(tmp_path: Path) -> None:
    """Only the temporary files of processes that are gone are removed."""
    from roomsim.outputs import remove_stale

    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        live = tmp_path / f".t.jsonl.{sleeper.pid}.part"
        live.write_text("")
        assert remove_stale(tmp_path / "t.jsonl") == [] and live.exists()
    finally:
        sleeper.kill()
        sleeper.wait()
    assert remove_stale(tmp_path / "t.jsonl") == [live] and not live.exists()


# -- places that cannot be written --------------------------------------------


@pytest.mark.parametrize(
    ("option", "path", "reason"),
    [
        ("--trace", "/proc/roomsim-t.jsonl", "No such file or directory"),
        ("--trace", "/sys/roomsim-t.jsonl", "Permission denied"),
        ("--trace", "/proc/self/status", "kernel file"),
        ("--trace", "{tmp}/file/t.jsonl", "is not a folder"),
        ("--trace", "{tmp}", "it is a folder"),
        ("--out", "{tmp}/file/pics", "is not a folder"),
        ("--out", "/proc/roomsim-pics", "cannot make the folder"),
        ("--out", "/sys/kernel", "Permission denied"),
    ],
)
def test_unwritable_outputs_are_one_line_before_the_run(
    tmp_path: Path, option: str, path: str, reason: str
) -> None:
    """/proc, /sys, a folder, a path under a regular file: one line naming the
    path and the reason, exit 2, before anything runs."""
    if os.geteuid() != 0 and path.startswith("/sys"):
        reason = "denied"
    (tmp_path / "file").write_text("")
    path = path.format(tmp=tmp_path)
    line = one_line_error(invoke("run", QUICKSTART, option, path, "-q"))
    assert path in line and reason in line and "written: nothing" in line


@contextlib.contextmanager
def mounted(folder: Path, options: str) -> Iterator[Path]:
    """A small tmpfs mounted at ``folder`` (skips the test where mounting is not allowed)."""
    folder.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)], capture_output=True
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=False)


def test_a_read_only_folder_is_one_line(tmp_path: Path) -> None:
    """A read-only file system: the trace, the pictures, a generated scenario
    and a sweep's table are each refused in one line ("Read-only file
    system"), exit 2, before running."""
    base = tmp_path / "base.json"
    base.write_text(json.dumps(generate_scenario(clients=4, nodes=2, rooms=3, room_emits=1)))
    spec = tmp_path / "spec.yaml"
    spec.write_text("scenario: base.json\ngrid: {latency.adapter_ms: [1]}\nout: ro/r.csv\n")
    with mounted(tmp_path / "ro", "ro,size=64k") as ro:
        for args in (
            ("run", QUICKSTART, "--trace", ro / "t.jsonl", "-q"),
            ("run", QUICKSTART, "--out", ro / "pics", "-q"),
            ("run", QUICKSTART, "--out", ro, "-q"),
            ("generate", ro / "big.json", "--clients", "10"),
            ("sweep", spec, "-q"),
        ):
            line = one_line_error(invoke(*args))
            assert str(ro) in line and ("Read-only file system" in line), line


@pytest.mark.slow
def test_a_full_disk_keeps_the_runs_result(tmp_path: Path) -> None:
    """A disk that fills during the run: the summary is still printed, then one
    line naming the trace and "No space left on device", exit 2, no
    temporary file left; pictures that fill it name what was written."""
    scenario = tmp_path / "s.json"
    scenario.write_text(json.dumps(generate_scenario(clients=60, nodes=2, rooms=3, room_emits=30)))
    with mounted(tmp_path / "full", "size=32k") as full:
        result = invoke("run", scenario, "--trace", full / "t.jsonl")
        assert result.exit_code == 2, result.output
        lines = result.output.strip().splitlines()
        assert lines[0].startswith("60 clients on 2 nodes")  # the summary, first
        assert lines[-1].startswith(f"roomsim: {full / 't.jsonl'}: cannot write the trace")
        assert "No space left on device" in lines[-1] and "Traceback" not in result.output
        assert os.listdir(full) == []
        result = invoke("run", scenario, "--trace", tmp_path / "t.jsonl", "--out", full, "-q")
        line = one_line_error(result)
        assert "No space left on device" in line and f"written: {tmp_path / 't.jsonl'}" in line
        assert part_files(full) == []


# -- permissions ----------------------------------------------------------------


@pytest.mark.slow
def test_traces_pictures_and_scenarios_get_the_users_umask(tmp_path: Path) -> None:
    """New files are made with mode 0666 minus the umask, as any tool's are."""
    old = os.umask(0o027)
    try:
        result = invoke(
            "run", QUICKSTART, "--trace", tmp_path / "t.jsonl", "--out", tmp_path / "pics", "-q"
        )
        assert result.exit_code == 0, result.output
        assert invoke("generate", tmp_path / "g.json", "--clients", "10").exit_code == 0
    finally:
        os.umask(old)
    files = [tmp_path / "t.jsonl", tmp_path / "g.json", *sorted((tmp_path / "pics").iterdir())]
    assert len(files) == 7
    assert {f.name: stat.S_IMODE(f.stat().st_mode) for f in files} == {f.name: 0o640 for f in files}
