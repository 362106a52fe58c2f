"""The summaries of ``roomsim run`` and ``roomsim compare``: their figures, the
text and the JSON of the same figures, long node tables, number formats."""

from __future__ import annotations

import json
import re
from pathlib import Path

from click.testing import CliRunner

from roomsim.cli import main
from roomsim.summary import BUSIEST, NODE_ROWS, format_summary, run_figures

ROOT = Path(__file__).resolve().parent.parent

#: 25 nodes, one client on each; node n7 gets three clients more; one broadcast
WIDE = """\
cluster: {nodes: 25, adapter: redis}
latency: {client_ms: 1.5, adapter_ms: 1}
groups:
  - {prefix: u, count: 25}
clients:
  - {name: a, node: n7}
  - {name: b, node: n7}
  - {name: c, node: n7}
timeline:
  - {at: 10, emit: {id: all, from: n1, event: news}}
"""


def invoke(*args: str):
    return CliRunner().invoke(main, list(args), prog_name="roomsim")


def _scenario(tmp_path: Path, text: str = WIDE) -> Path:
    path = tmp_path / "wide.yaml"
    path.write_text(text)
    return path


def test_a_wide_run_shows_min_median_max_and_the_busiest_nodes(tmp_path: Path) -> None:
    """More than NODE_ROWS nodes: min / median / max per column and the BUSIEST
    nodes by deliveries (n7 first: four clients, so four deliveries); --full
    shows one row per node instead."""
    result = invoke("run", str(_scenario(tmp_path)))
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("wide.yaml: 25 nodes (redis adapter)")
    assert "25 nodes: min, median and max per node (--full for every row)" in lines
    rows = {line.split()[0]: line.split()[1:] for line in lines}
    # connects, emits, deliveries, published, received, discarded
    assert rows["min"][:3] == ["1", "0", "1"]
    assert rows["median"][:3] == ["1", "0", "1"]
    assert rows["max"][:3] == ["4", "1", "4"]
    busiest = lines[lines.index("the 5 busiest nodes, by deliveries:") + 1 :][:BUSIEST]
    assert busiest[0].split()[:4] == ["n7", "4", "0", "4"]
    assert [line.split()[0] for line in busiest[1:]] == ["n1", "n10", "n11", "n12"]
    assert not any(line.startswith("n25 ") for line in lines)
    full = invoke("run", str(_scenario(tmp_path)), "--full").output.splitlines()
    node_rows = [line for line in full if re.match(r"n\d+ ", line)]
    assert len(node_rows) == 25 > NODE_ROWS
    assert "min" not in {line.split()[0] for line in full}


def test_the_wrote_lines_come_after_the_whole_summary(tmp_path: Path) -> None:
    """The summary (counts, nodes, deliveries, checks) is one block; the files
    written are listed after it."""
    trace = tmp_path / "t.jsonl"
    result = invoke(
        "run",
        str(ROOT / "examples" / "quickstart.yaml"),
        "--trace",
        str(trace),
        "--out",
        str(tmp_path / "pics"),
    )
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    wrote = [i for i, line in enumerate(lines) if line.startswith("wrote ")]
    assert lines[wrote[0] - 1].startswith("checks: ok")
    assert wrote == list(range(wrote[0], len(lines)))
    assert lines[-1] == f"wrote {trace}"


def test_run_json_prints_the_figures_the_text_shows(tmp_path: Path) -> None:
    """``run --json`` is one JSON object with the summary's figures; rendering
    those figures gives exactly the text ``run`` prints; 'wrote' goes to stderr."""
    scenario = _scenario(tmp_path)
    trace = tmp_path / "t.jsonl"
    result = invoke("run", str(scenario), "--json", "--trace", str(trace))
    assert result.exit_code == 0, result.stderr
    figures = json.loads(result.stdout)
    assert result.stderr == f"wrote {trace}\n"
    # 28 clients, one broadcast from n1: every client gets it
    assert (figures["clients"], figures["emits"], figures["deliveries"]) == (28, 1, 28)
    assert figures["nodes"] == 25 and len(figures["node_rows"]) == 25
    n7 = next(row for row in figures["node_rows"] if row["node"] == "n7")
    assert (n7["connects"], n7["deliveries"]) == (4, 4)
    # the classic adapter: one publish, a copy to each of the 25 nodes, n1's own thrown away
    assert (figures["published"], figures["received"], figures["discarded"]) == (1, 25, 1)
    assert figures["delivery"]["broadcast"]["delivered"] == 28
    assert figures["checks"] == {"ok": True, "violations": []}
    assert figures["wrote"] == [str(trace)]
    text = invoke("run", str(scenario)).stdout
    del figures["wrote"]
    assert format_summary(figures) + "\n" == text


def test_compare_speaks_the_words_of_run(tmp_path: Path) -> None:
    """``run`` and ``compare`` name the broker's copies the same way
    (published / received / discarded), and ``compare --json`` holds the
    figures its table shows."""
    scenario = str(_scenario(tmp_path))
    run_words = set(invoke("run", scenario).stdout.split())
    text = invoke("compare", scenario).stdout
    table = {line.split()[0]: line.split()[1:] for line in text.splitlines()}
    for word in ("published", "received", "discarded"):
        assert word in run_words and word in table
    assert "relayed" not in run_words and "relayed" not in table
    data = json.loads(invoke("compare", scenario, "--json").stdout)
    assert table["received"] == [f"{data[a]['received']:,}" for a in ("redis", "sharded-redis")]
    assert table["useful_fraction"] == [
        f"{data[a]['useful_fraction']:.3f}" for a in ("redis", "sharded-redis")
    ]


def test_numbers_are_formatted_one_way() -> None:
    """Counts get thousands separators, latencies one decimal whatever their
    value, and a count of one takes the singular."""
    from roomsim.trace import Trace

    trace = Trace()
    for i in range(1_200):
        trace.record(0, "connect", client=f"c{i}", node="n1", sid=f"s{i}")
    trace.record(1, "emit", msg="m1", node="n1", event="e")
    trace.add_deliveries(3.25, "m1", "n1", "e", [f"c{i}" for i in range(1_200)])
    figures = run_figures(
        trace.tally,
        delivery={
            "broadcast": {
                "targeted": 1200,
                "delivered": 1200,
                "lost": 0,
                "p50": 2.25,
                "p95": 2,
                "p99": 2.25,
                "max": 2.25,
            }
        },
        violations=["a: message m1: one"],
    )
    text = format_summary(figures)
    assert text.splitlines()[0] == "run: 1 node, seed None, ended at t=3.25 ms"
    assert "clients: 1,200" in text
    assert re.search(r"^n1\s+1,200\s+1\s+1,200\s", text, re.M)
    assert re.search(r"^broadcast\s+1,200\s+1,200\s+0\s+2\.2\s+2\.0\s+2\.2\s+2\.2$", text, re.M)
    assert "checks: 1 violation:" in text


def test_a_violation_exits_1_with_the_json_saying_so(tmp_path: Path, monkeypatch) -> None:
    """A violation found by the checks: exit 1, and ``--json`` lists it."""
    from roomsim.analysis import check as check_module

    monkeypatch.setattr(check_module.Checker, "finish", lambda self: ["dup: m1"])
    result = invoke("run", str(_scenario(tmp_path)), "--json")
    assert result.exit_code == 1
    assert json.loads(result.stdout)["checks"] == {"ok": False, "violations": ["dup: m1"]}
    text = invoke("run", str(_scenario(tmp_path)))
    assert text.exit_code == 1 and "checks: 1 violation:\n  dup: m1" in text.stdout


def test_plurals_are_right_in_every_count_line(tmp_path: Path) -> None:
    """One node, one client, one step: singular words, in validate and run."""
    path = tmp_path / "one.yaml"
    path.write_text(
        "cluster: {nodes: 1}\nclients: [{name: a, node: n1}]\n"
        "timeline: [{at: 1, emit: {from: n1}}]\n"
    )
    assert invoke("validate", str(path)).stdout == f"{path}: ok (1 node, 1 client, 1 step)\n"
    assert invoke("run", str(path)).stdout.startswith("one.yaml: 1 node (memory adapter)")
