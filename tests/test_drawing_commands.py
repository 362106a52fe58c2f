"""``roomsim draw`` and ``roomsim why`` as a user meets them (the commands of draw_commands)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from roomsim.draw_commands import KINDS, draw, why

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
QUICKSTART = EXAMPLES / "quickstart.yaml"


@click.group()
def cli() -> None:
    """The two commands on a group, as cli.py registers them."""


cli.add_command(draw)
cli.add_command(why)


def invoke(*args: str):
    return CliRunner().invoke(cli, [str(a) for a in args])


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The quickstart's trace, saved as ``roomsim run --trace`` does."""
    from roomsim.runner import run_scenario
    from roomsim.scenario import load_scenario
    from roomsim.trace import Trace

    path = tmp_path_factory.mktemp("trace") / "quickstart.jsonl"
    trace = Trace(path)
    run_scenario(load_scenario(QUICKSTART), trace=trace)
    trace.close()
    return path


MAGIC = {".png": b"\x89PNG", ".svg": b"<?xml", ".gif": b"GIF8"}


@pytest.mark.parametrize(
    ("kind", "extra", "suffix"),
    [
        ("delivery", ["--msg", "m4"], ".png"),
        ("delivery", ["--msg", "m5"], ".svg"),
        ("timeline", [], ".png"),
        ("timeline", ["--from", "20", "--to", "60", "--room", "room1"], ".svg"),
        ("timeline", ["--client", "bob"], ".png"),
        ("membership", ["--at", "55"], ".png"),
        ("membership", [], ".svg"),
        ("latency", [], ".png"),
        ("broker", ["--from", "0", "--to", "90"], ".png"),
        ("load", [], ".png"),
        pytest.param("animation", ["--to", "60"], ".gif", marks=pytest.mark.slow),
    ],
)
def test_draw_each_kind_from_a_saved_trace(
    saved: Path, tmp_path: Path, kind: str, extra: list[str], suffix: str
) -> None:
    """Every kind of picture, from a trace file alone, in each file type it takes."""
    out = tmp_path / f"picture{suffix}"
    result = invoke("draw", saved, "--kind", kind, *extra, "--out", out)
    assert result.exit_code == 0, result.output
    assert result.output == f"wrote {out}\n"
    data = out.read_bytes()
    assert data.startswith(MAGIC[suffix]) and len(data) > 5_000
    if suffix == ".svg":
        assert b"<svg" in data


def test_draw_runs_a_scenario_first(tmp_path: Path) -> None:
    """A scenario file is played, then drawn."""
    out = tmp_path / "m4.png"
    result = invoke("draw", QUICKSTART, "--kind", "delivery", "--msg", "m4", "--out", out)
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"\x89PNG")


def test_why_prints_one_sentence(saved: Path) -> None:
    """The answer from a saved trace and from the scenario is the same sentence."""
    expected = (
        "bob did not get m3: n2, bob's node, ignored the broker's copy at t=41 ms (unknown"
        " room: no socket on n2 was in room1).\n"
    )
    for source in (saved, QUICKSTART):
        result = invoke("why", source, "--msg", "m3", "--client", "bob")
        assert result.exit_code == 0, result.output
        assert result.output == expected


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["why", "{trace}", "--msg", "m9", "--client", "bob"], "no message 'm9' in the trace"),
        (["why", "{trace}", "--msg", "m3", "--client", "zed"], "no client 'zed' in the trace"),
        (["why", "{trace}", "--msg", "m3"], "give --msg"),
        (["draw", "{trace}", "--kind", "delivery", "--msg", "m9", "--out", "{out}.png"], "'m9'"),
        (["draw", "{trace}", "--kind", "delivery", "--out", "{out}.png"], "needs --msg"),
        (["draw", "{trace}", "--out", "{out}.png"], "--kind is required"),
        (["draw", "{trace}", "--kind", "pie", "--out", "{out}.png"], "expected one of"),
        (["draw", "{trace}", "--kind", "latency"], "--out is required"),
        (["draw", "{trace}", "--kind", "latency", "--out", "{out}.jpg"], ".png or .svg"),
        (["draw", "{trace}", "--kind", "animation", "--out", "{out}.png"], "ending in .gif"),
        (["draw", "{trace}", "--kind", "latency", "--out", "/no/such/dir/x.png"], "no directory"),
        (["draw", "{trace}", "--kind", "membership", "--at", "soon", "--out", "{out}.png"], "--at"),
        (["draw", "{trace}", "--kind", "latency", "--at", "5", "--out", "{out}.png"], "apply"),
        (
            [
                "draw",
                "{trace}",
                "--kind",
                "timeline",
                "--from",
                "9",
                "--to",
                "1",
                "--out",
                "{out}.png",
            ],
            "after --to",
        ),
        (["draw", "{trace}", "--kind", "timeline", "--room", "nope", "--out", "{out}.png"], "room"),
        (["draw", "{missing}", "--kind", "latency", "--out", "{out}.png"], "no such file"),
        (["draw", "{bad}", "--kind", "latency", "--out", "{out}.png"], "bad.jsonl:2:"),
        (["draw", "{scenario}", "--kind", "latency", "--out", "{out}.png"], "bad.yaml:"),
        (["why", "{odd}", "--msg", "m1", "--client", "a"], "it has no messages"),
        (["draw", "{odd}", "--kind", "timeline", "--out", "{out}.png"], "has no 'sid'"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    saved: Path, tmp_path: Path, args: list[str], message: str
) -> None:
    """One line on stderr starting "roomsim:", exit status 2, no traceback, nothing written.

    In process: click's runner keeps stdout and stderr apart, and the exit is
    a ``SystemExit``, never another exception (which would be a traceback).
    """
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"t": 0, "kind": "connect"}\nnot json\n')
    scenario = tmp_path / "bad.yaml"
    scenario.write_text("cluster: {nodes: [n1]}\nclients: [{name: a, nod: n1}]\n")
    odd = tmp_path / "odd.jsonl"  # JSON records, but not the ones a run writes
    odd.write_text('{"t": 0, "kind": "connect", "client": "a", "node": "n1"}\n')
    names = {
        "trace": saved,
        "out": tmp_path / "out",
        "missing": tmp_path / "missing.yaml",
        "bad": bad,
        "scenario": scenario,
        "odd": odd,
    }
    argv = [a.format(**names) for a in args]
    result = CliRunner().invoke(cli, argv)
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit), result.exception  # not a crash
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("roomsim: "), result.stderr
    assert message in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.jsonl", "bad.yaml", "odd.jsonl"]


def test_bad_input_in_a_real_process(saved: Path, tmp_path: Path) -> None:
    """As a separate process: one line on stderr, no traceback, exit status 2, nothing written."""
    argv = ["draw", str(saved), "--kind", "delivery", "--msg", "m9", "--out", "out.png"]
    proc = subprocess.run(
        [sys.executable, "-c", CALL, *argv], capture_output=True, text=True, cwd=tmp_path
    )
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("roomsim: "), proc.stderr
    assert "'m9'" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert list(tmp_path.iterdir()) == []


CALL = """
import sys, click
from roomsim.draw_commands import draw, why
group = click.Group(commands=[draw, why])
group(sys.argv[1:])
"""


def test_every_kind_is_documented_in_the_help() -> None:
    result = invoke("draw", "--help")
    assert result.exit_code == 0
    for kind in KINDS:
        assert kind in result.output
