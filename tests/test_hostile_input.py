"""Hostile input: whatever a scenario file holds, roomsim answers in bounded time
and memory with one line (file, line, key, what was expected) and exit status 2,
or runs it; a scenario file can never make roomsim run code, and a trace never
holds a number that is not JSON."""

# ruff: noqa: E501  (messages read best whole)

from __future__ import annotations

import json
import math
import os
import random
import resource
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import pytest
from click.testing import CliRunner

from roomsim.cli import main
from roomsim.reconnect import Backoff
from roomsim.scenario import ScenarioError, parse_scenario
from roomsim.scenario.loading import MAX_FILE_BYTES

ROOT = Path(__file__).resolve().parents[1]


def problem(text: str, path: str = "s.yaml") -> str:
    """The one-line error the loader gives for ``text``."""
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(text, path)
    message = str(caught.value)
    assert "\n" not in message and "\r" not in message
    return message


def cli(*args: str, limit_mb: int = 1024, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """``roomsim ARGS`` in a child process whose memory is capped at ``limit_mb``."""

    def cap() -> None:
        size = limit_mb * 2**20
        resource.setrlimit(resource.RLIMIT_AS, (size, size))

    code = "import sys; from roomsim.cli import main; sys.argv[0] = 'roomsim'; main()"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg"}
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        preexec_fn=cap,
        env=env,
        cwd=ROOT,
    )


def one_line_exit_2(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, result.stderr[-2000:]
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("roomsim: "), result.stderr[-2000:]
    return lines[0]


# --- aliases, sizes, files that are not files ----------------------------------------


def laughs(levels: int) -> str:
    """A "billion laughs" file: in an emit's data, each level is nine aliases of
    the level before, so the last stands for 9**levels values."""
    lines = ['        a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for k in range(1, levels):
        name, before = "abcdefghijkl"[k], "abcdefghijkl"[k - 1]
        lines.append(f"        {name}: &{name} [{', '.join([f'*{before}'] * 9)}]")
    head = "cluster: {nodes: 1}\ntimeline:\n  - at: 1\n    emit:\n      from: n1\n      data:\n"
    return head + "\n".join(lines) + "\n"


def test_billion_laughs_is_refused_at_once() -> None:
    """Aliases may stand for at most 1,000,000 values in all: a file whose
    aliases expand to 9^7 values is refused in well under a second, at the
    alias that went over, instead of being expanded in memory."""
    start = time.perf_counter()
    message = problem(laughs(7))
    assert time.perf_counter() - start < 0.5
    assert message.startswith("s.yaml:13: timeline[0].emit.data.g[")
    assert message.endswith(
        ": aliases (*name) stand for more than 1,000,000 values in all;"
        " a scenario file may not expand beyond that"
    )


def test_billion_laughs_on_the_command_line(tmp_path: Path) -> None:
    """``roomsim validate`` of a nine-level billion-laughs file (387 million
    values) ends at once with one line, within 1 GB of memory."""
    path = tmp_path / "laughs.yaml"
    path.write_text(laughs(9))
    start = time.perf_counter()
    line = one_line_exit_2(cli("validate", str(path), timeout=30))
    assert time.perf_counter() - start < 10  # the child's start and imports included
    assert line == (
        f"roomsim: {path}:13: timeline[0].emit.data.g[0]: aliases (*name) stand for more than"
        " 1,000,000 values in all; a scenario file may not expand beyond that"
    )


def test_aliases_within_the_bound_still_expand() -> None:
    """Aliases and merges that stay within the bound mean what YAML says."""
    sc = parse_scenario(
        "cluster: {nodes: 1}\n"
        "clients:\n"
        "  - &alice {name: alice, node: n1, rooms: [lobby]}\n"
        "  - {<<: *alice, name: bob}\n"
        "timeline:\n"
        "  - {at: 1, emit: &e {from: n1, to: lobby, data: [1, 2, 3]}}\n"
        "  - {at: 2, emit: {<<: *e, data: *e}}\n"
    )
    assert [(c.name, c.rooms) for c in sc.clients] == [("alice", ["lobby"]), ("bob", ["lobby"])]
    assert sc.timeline[1].emit.data == {"from": "n1", "to": "lobby", "data": [1, 2, 3]}


@pytest.mark.slow
def test_devices_fifos_and_huge_files_are_refused_unread(tmp_path: Path) -> None:
    """A device, a FIFO (with no writer: opening it would wait for ever) and a
    file over the size limit are refused from what the file system says,
    without reading them: one line, exit 2, in a child capped at 1 GB."""
    line = one_line_exit_2(cli("validate", "/dev/zero", timeout=20))
    assert line == "roomsim: /dev/zero: is a device, not a scenario file (a regular file)"
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    line = one_line_exit_2(cli("run", str(fifo), timeout=20))
    assert (
        line == f"roomsim: {fifo}: is a FIFO (a named pipe), not a scenario file (a regular file)"
    )
    huge = tmp_path / "huge.yaml"
    with huge.open("wb") as out:  # sparse: no disk used
        out.truncate(MAX_FILE_BYTES + 1)
    line = one_line_exit_2(cli("validate", str(huge), limit_mb=512, timeout=20))
    assert line == f"roomsim: {huge}: the file is 256 MiB: a scenario file may be at most 256 MiB"


def test_a_trace_given_as_a_scenario_says_so(tmp_path: Path) -> None:
    """``roomsim run TRACE.jsonl`` says that the file is a trace and which
    commands read traces (draw, why, check), exit 2."""
    scenario = ROOT / "examples" / "quickstart.yaml"
    trace = tmp_path / "quickstart.jsonl"
    result = CliRunner().invoke(main, ["run", str(scenario), "--trace", str(trace), "-q"])
    assert result.exit_code == 0, result.output
    for command in ("run", "validate"):
        result = CliRunner().invoke(main, [command, str(trace)])
        assert result.exit_code == 2
        assert result.output == (
            f"roomsim: {trace}: this is a trace, not a scenario: use draw, why or check\n"
        )


# --- no code, no secrets ------------------------------------------------------------


@pytest.mark.parametrize(
    ("tagged", "tag"),
    [
        ("!!python/object/apply:os.system ['touch {marker}']", "!!python/object/apply:os.system"),
        ("!!python/object/new:os.system ['touch {marker}']", "!!python/object/new:os.system"),
        ("!!python/name:os.system", "!!python/name:os.system"),
        ("!!python/module:os", "!!python/module:os"),
        ("!!python/object:__main__.Evil {{x: 1}}", "!!python/object:__main__.Evil"),
        ("!env SECRET", "!env"),
        ("!!set {{a, b}}", "!!set"),
    ],
)
def test_a_scenario_file_cannot_run_code(tmp_path: Path, tagged: str, tag: str) -> None:
    """Only plain values are read: a YAML tag that would build a Python object
    (or any tag beyond YAML's plain ones) is refused with one line naming the
    key and the tag, and nothing runs."""
    marker = tmp_path / "ran"
    path = tmp_path / "evil.yaml"
    path.write_text("cluster: {nodes: 1}\nname: " + tagged.format(marker=marker) + "\n")
    result = CliRunner().invoke(main, ["run", str(path)])
    assert result.exit_code == 2
    assert result.output == f"roomsim: {path}:2: name: unsupported YAML tag {tag!r}\n"
    assert not marker.exists()


def test_errors_show_no_more_than_the_offending_value(tmp_path: Path) -> None:
    """A file that is not a scenario at all (a password file given by mistake)
    gets a line saying what it is, without quoting its content."""
    path = tmp_path / "passwd"
    path.write_text("root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/bin/sh\n")
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exit_code == 2
    assert result.output == f"roomsim: {path}:1: expected a mapping at the top level, got a text\n"
    long_value = "x" * 5000
    message = problem(f"cluster: {{nodes: 1}}\nseed: {long_value}\n")
    assert message == f"s.yaml:2: seed: expected a whole number, got '{'x' * 35}...'"
    name = "n" * 3000
    message = problem(f"cluster: {{nodes: [{name}, {name}]}}\n")
    assert message == f"s.yaml:1: cluster.nodes[1]: duplicate node '{'n' * 35}...'"
    key = "n" * 1000  # YAML's longest plain key is 1024 characters
    message = problem(f"cluster: {{nodes: 1}}\nlatency: {{nodes: {{{key}: {{client_ms: 1}}}}}}\n")
    assert message == f"s.yaml:2: latency.nodes.{'n' * 36}...: unknown node '{'n' * 35}...'"


# --- numbers ------------------------------------------------------------------------

BIG = "1" + "0" * 400


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "until: 1e309",
            "s.yaml:2: until: expected a time in ms (a number >= 0), got inf",
        ),
        (
            "timeline: [{at: 1e13, emit: {from: n1}}]",
            "s.yaml:2: timeline[0].at: expected a time in ms of at most 1e+12 (about 31 years), got 10000000000000.0",
        ),
        (
            "timeline: [{at: 1.7e308, emit: {from: n1}}]",
            "s.yaml:2: timeline[0].at: expected a time in ms of at most 1e+12 (about 31 years), got 1.7e+308",
        ),
        (
            "latency: {client_ms: {uniform: [0, .inf]}}",
            "s.yaml:2: latency.client_ms.uniform[1]: expected a latency in ms from 0 to 1e+12, got inf",
        ),
        (
            "latency: {client_ms: {uniform: [.nan, 1]}}",
            "s.yaml:2: latency.client_ms.uniform[0]: expected a latency in ms from 0 to 1e+12, got nan",
        ),
        (
            "latency: {adapter_ms: {lognormal: {median: 10, sigma: 1000}}}",
            "s.yaml:2: latency.adapter_ms.lognormal.sigma: expected a sigma of at most 10 (a larger one makes latencies overflow), got 1000.0",
        ),
        (
            "latency: {nodes: {n1: {client_ms: {lognormal: {median: .inf, sigma: 1}}}}}",
            "s.yaml:2: latency.nodes.n1.client_ms.lognormal.median: expected a latency in ms from 0 to 1e+12, got inf",
        ),
        (
            f"latency: {{client_ms: {{exponential: {BIG}}}}}",
            "s.yaml:2: latency.client_ms: expected a latency in ms (a number >= 0, {uniform: [low, high]}, {exponential: mean} or {lognormal: {median: m, sigma: s}}), got a mapping",
        ),
        (
            "clients: [{name: a, node: n1, reconnection_delay: 1e-320, reconnection_delay_max: 5}]",
            "s.yaml:2: clients[0].reconnection_delay: expected a time of at least 1 ms when reconnect is on (with less the client retries without end at one instant), got 1e-320",
        ),
        (
            "clients: [{name: a, node: n1, reconnection_delay: 0}]",
            "s.yaml:2: clients[0].reconnection_delay: expected a time of at least 1 ms when reconnect is on (with less the client retries without end at one instant), got 0.0",
        ),
        (
            "clients: [{name: a, node: n1, reconnection_delay_max: 0.5}]",
            "s.yaml:2: clients[0].reconnection_delay_max: expected a time of at least 1 ms when reconnect is on (with less the client retries without end at one instant), got 0.5",
        ),
    ],
)
def test_numbers_that_cannot_be_simulated_are_refused(text: str, expected: str) -> None:
    """NaN, infinity, numbers that overflow and parameters whose draws overflow
    are refused by validation, naming the key."""
    assert problem("cluster: {nodes: 1}\n" + text + "\n") == expected


def test_zero_delay_is_fine_without_reconnection() -> None:
    """A zero reconnection delay is refused only where it would be used."""
    sc = parse_scenario(
        "cluster: {nodes: 1}\n"
        "clients: [{name: a, node: n1, reconnect: false, reconnection_delay: 0}]\n"
    )
    assert sc.clients[0].reconnection_delay == 0


def strict_json(line: str) -> dict:
    def refuse(constant: str) -> None:
        raise ValueError(f"{constant} is not JSON")

    return json.loads(line, parse_constant=refuse)


def test_a_run_at_the_limits_writes_a_strict_json_trace(tmp_path: Path) -> None:
    """The largest times and latency parameters validation lets through give a
    run whose trace is strict JSON: no Infinity, no NaN, every time finite."""
    path = tmp_path / "limits.yaml"
    path.write_text(
        "seed: 3\n"
        "cluster: {nodes: 2}\n"
        "latency:\n"
        "  client_ms: {lognormal: {median: 1000000000000, sigma: 10}}\n"
        "  adapter_ms: {uniform: [0, 1000000000000]}\n"
        "clients:\n"
        "  - {name: a, node: n1, rooms: [r], reconnection_delay: 1e12, reconnection_delay_max: 1e12}\n"
        "  - {name: b, node: n2, rooms: [r], latency_ms: {exponential: 1e12}}\n"
        "timeline:\n"
        "  - {at: 1e12, emit: {from: n1, to: r, event: news}}\n"
        "  - {at: 1e12, emit: {from: a, to: r, event: chat}}\n"
    )
    trace = tmp_path / "limits.jsonl"
    result = CliRunner().invoke(main, ["run", str(path), "--trace", str(trace), "-q"])
    assert result.exit_code in (0, 1), result.output
    records = [strict_json(line) for line in trace.read_text().splitlines()]
    assert any(r["kind"] == "deliver" for r in records)
    assert all(math.isfinite(r["t"]) for r in records)


def test_the_backoff_never_overflows() -> None:
    """After any number of attempts the delay is capped at
    reconnection_delay_max (socket.io-client keeps trying at that delay)."""
    backoff = Backoff(1000.0, 5000.0, 0.5, random.Random(1))
    delays = [backoff.duration() for _ in range(3000)]
    assert max(delays) == 5000 and delays[-1] <= 5000
    assert backoff.attempts == 3000
    huge = Backoff(1e12, 1e12, 1.0, random.Random(2))
    huge.attempts = 10**6
    assert 0 <= huge.duration() <= 1e12


def test_a_node_down_for_hours_is_retried_until_it_is_back(tmp_path: Path) -> None:
    """A client retries every reconnection_delay_max (5 s) while its only node is
    down for 2.2 hours (more than 1,600 attempts), and reconnects once the node
    restarts."""
    path = tmp_path / "outage.yaml"
    path.write_text(
        "cluster: {nodes: 1}\n"
        "clients: [{name: a, node: n1}]\n"
        "timeline:\n"
        "  - {at: 1, crash: {node: n1}}\n"
        "  - {at: 8000000, restart: {node: n1}}\n"
    )
    trace = tmp_path / "outage.jsonl"
    result = CliRunner().invoke(main, ["run", str(path), "--trace", str(trace), "-q"])
    assert result.exit_code == 0, result.output
    connects = [
        r for r in map(strict_json, trace.read_text().splitlines()) if r["kind"] == "connect"
    ]
    assert len(connects) == 2
    assert 8_000_000 <= connects[1]["t"] <= 8_000_000 + 5000 + 100


# --- counts that cannot fit in memory ---------------------------------------------


def test_rooms_that_cannot_fit_are_refused_up_front() -> None:
    """10^9 rooms with 10^6 per client for 1,000 clients would be 10^9
    memberships: refused at validation, naming the key and the bound."""
    start = time.perf_counter()
    message = problem(
        "cluster: {nodes: 1}\n"
        "groups:\n"
        "  - {prefix: u, count: 1000, rooms: {prefix: r, count: 1000000000, per_client: 1000000}}\n"
    )
    assert time.perf_counter() - start < 1
    assert message == (
        "s.yaml:3: groups[0].rooms.per_client: the groups' clients would join up to"
        " 1,000,000,000 rooms in all with this group (count x per_client); at most 10,000,000 fit"
    )


def test_clients_that_cannot_fit_are_refused_up_front() -> None:
    """Groups of a million clients each come to at most 2,000,000 clients in all."""
    message = problem(
        "cluster: {nodes: 1}\n"
        "clients: [{name: a, node: n1}]\n"
        "groups:\n"
        "  - {prefix: u, count: 1000000}\n"
        "  - {prefix: v, count: 1000000}\n"
    )
    assert message == (
        "s.yaml:5: groups[1].count: the clients come to 2,000,001 with this group;"
        " a scenario may have at most 2,000,000 clients in all"
    )


@pytest.mark.slow
def test_a_long_yaml_file_takes_the_memory_of_the_same_json_file() -> None:
    """A YAML timeline is read without a tree of nodes: its peak memory while
    loading is within 25% of the same scenario as JSON (the benchmark
    benchmarks/big_yaml.py measures 1,000,000 steps)."""
    steps = 4000
    data = {
        "cluster": {"nodes": 2},
        "clients": [{"name": "a", "node": "n1", "rooms": ["r1"]}],
        "timeline": [
            {"at": i, "emit": {"from": "n1", "to": [f"r{i % 10}"], "event": "e", "data": {"k": i}}}
            for i in range(steps)
        ],
    }
    text = "cluster: {nodes: 2}\nclients:\n  - {name: a, node: n1, rooms: [r1]}\ntimeline:\n"
    text += "".join(
        f"  - {{at: {i}, emit: {{from: n1, to: [r{i % 10}], event: e, data: {{k: {i}}}}}}}\n"
        for i in range(steps)
    )
    peaks = {}
    for path, content in (("s.json", json.dumps(data)), ("s.yaml", text)):
        tracemalloc.start()
        try:
            scenario = parse_scenario(content, path)
            peaks[path] = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert len(scenario.timeline) == steps
        del scenario
    assert peaks["s.yaml"] < 1.25 * peaks["s.json"], peaks


# --- layout mistakes and misspelt names ----------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "cluster: {nodes: 1}\nclients:\n\t- {name: a, node: n1}\n",
            "s.yaml:3: malformed YAML: a tab is used for indentation on line 3; YAML indents with spaces only (no tabs)",
        ),
        (
            "cluster: {nodes: 1}\nclients:\n  -\t{name: a, node: n1}\n",
            "s.yaml:3: malformed YAML: a tab is used for indentation on line 3; YAML indents with spaces only (no tabs)",
        ),
        (
            "cluster:\n  nodes: 1\n\tadapter: memory\n",
            "s.yaml:3: malformed YAML: a tab is used for indentation on line 3; YAML indents with spaces only (no tabs)",
        ),
        (
            "cluster: {nodes: 1}\nclients:\n  - name: a\n     node: n1\n",
            "s.yaml:4: malformed YAML: indentation: line 4 starts in column 6 but line 3 above it in column 5; the keys of one mapping, and the items of one list, start in the same column",
        ),
        (
            "cluster:\n  nodes: 1\n adapter: memory\n",
            "s.yaml:3: malformed YAML: indentation: line 3 starts in column 2 but line 2 above it in column 3; the keys of one mapping, and the items of one list, start in the same column",
        ),
        (
            "cluster: {nodes: 1}\ntimeline:\n  - at: 1\n    emit:\n      from: n1\n\n      # a comment\n     to: r\n",
            "s.yaml:8: malformed YAML: indentation: line 8 starts in column 6 but line 5 above it in column 7; the keys of one mapping, and the items of one list, start in the same column",
        ),
    ],
)
def test_layout_mistakes_in_plain_words(text: str, expected: str) -> None:
    """A tab used for indentation says "tab" and that YAML indents with spaces;
    a line indented too far or too little says "indentation", with the line."""
    assert problem(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "cluster: {nodes: [main, backup]}\nclients: [{name: alice, node: mian}]\n",
            "s.yaml:2: clients[0].node: unknown node 'mian' (did you mean 'main'?)",
        ),
        (
            "cluster: {nodes: 1}\nclients: [{name: alice, node: n1}]\ntimeline:\n  - {at: 1, disconnect: {client: alcie}}\n",
            "s.yaml:4: timeline[0].disconnect.client: unknown client 'alcie' (did you mean 'alice'?)",
        ),
        (
            "cluster: {nodes: 1}\nclients: [{name: alice, node: n1}]\ntimeline:\n  - {at: 1, emit: {from: alcie, to: r}}\n",
            "s.yaml:4: timeline[0].emit.from: unknown client or node 'alcie' (did you mean 'alice'?)",
        ),
        (
            "cluster: {nodes: [main, backup]}\ntimeline:\n  - {at: 1, crash: {node: bakcup}}\n",
            "s.yaml:3: timeline[0].crash.node: unknown node 'bakcup' (did you mean 'backup'?)",
        ),
        (
            "cluster: {nodes: 1}\ngroups: [{prefix: user, count: 100000}]\ntimeline:\n  - {at: 1, disconnect: {client: usr5}}\n",
            "s.yaml:4: timeline[0].disconnect.client: unknown client 'usr5' (did you mean 'user5'?)",
        ),
    ],
)
def test_misspelt_names_get_a_suggestion(text: str, expected: str) -> None:
    """As for keys, a misspelt client or node name gets the closest known one."""
    assert problem(text) == expected


# --- sweeps read scenarios as run does ----------------------------------------------


def test_sweep_refuses_a_bad_grid_point_in_one_line(tmp_path: Path) -> None:
    """A grid point that makes the scenario invalid is refused before any
    worker starts: one line naming the point and the key, exit 2."""
    (tmp_path / "base.yaml").write_text("cluster: {nodes: 2}\nclients: [{name: a, node: n2}]\n")
    spec = tmp_path / "spec.yaml"
    spec.write_text("scenario: base.yaml\ngrid: {cluster.nodes: [2, 1]}\nout: r.csv\n")
    result = CliRunner().invoke(main, ["sweep", str(spec)])
    assert result.exit_code == 2
    assert result.output == (
        f"roomsim: {tmp_path / 'base.yaml'} at grid point cluster.nodes=1:"
        " clients[0].node: unknown node 'n2'\n"
    )
    spec.write_text("scenario: base.yaml\ngrid: {cluster.nodes.x: [1]}\nout: r.csv\n")
    result = CliRunner().invoke(main, ["sweep", str(spec)])
    assert result.exit_code == 2
    assert result.output == (
        f"roomsim: {tmp_path / 'base.yaml'} at grid point cluster.nodes.x=1:"
        " cluster.nodes.x: 'nodes' is not a mapping in the scenario\n"
    )
    assert not (tmp_path / "r.csv").exists()


@pytest.mark.slow
def test_sweep_reads_the_scenario_as_run_does(tmp_path: Path) -> None:
    """A room called ``no`` is the text 'no' for ``sweep`` as for ``run`` (YAML
    1.2), not false: the sweep runs and every run delivers."""
    pytest.importorskip("dask.distributed")
    (tmp_path / "base.yaml").write_text(
        "cluster: {nodes: 2}\n"
        "clients: [{name: a, node: n1, rooms: [no]}, {name: b, node: n2, rooms: [on]}]\n"
        "timeline: [{at: 5, emit: {from: n1, to: [no, on], event: news}}]\n"
    )
    spec = tmp_path / "spec.yaml"
    spec.write_text("scenario: base.yaml\ngrid: {latency.adapter_ms: [1]}\nseeds: 1\nout: r.csv\n")
    result = CliRunner().invoke(main, ["sweep", str(spec), "-q"])
    assert result.exit_code == 0, result.output
    header, row = (tmp_path / "r.csv").read_text().splitlines()
    assert dict(zip(header.split(","), row.split(","), strict=True))["deliveries"] == "2"


def test_lines_deep_inside_a_long_yaml_file() -> None:
    """Lines are found when an error asks for one: an error deep inside the last
    of 20,000 block-style clients, after comments, blank lines and non-ASCII
    text, names its own line, as in a short file."""
    head = "# é€𝄞 a comment\r\ncluster:\r\n  nodes: 2\r\nclients:\r\n"
    client = (
        "  - name: c{i}  # 𝄞\r\n    node: n1\r\n\r\n    rooms:\r\n      - r1\r\n      - r{i}\r\n"
    )
    body = "".join(client.format(i=i) for i in range(20_000))
    text = head + body.replace("      - r19999\r\n", "      - 'r 19999'\r\n")
    line = text[: text.index("'r 19999'")].count("\n") + 1
    assert problem(text) == (
        f"s.yaml:{line}: clients[19999].rooms[1]: expected a name (letters, digits, _ - : .),"
        " got 'r 19999'"
    )


@pytest.mark.slow
def test_many_groups_are_checked_in_time() -> None:
    """A thousand groups with rooms are checked against every client name in
    one pass (not a thousand), and the clash of the first group is the one said."""
    groups = "".join(
        f"  - {{prefix: g{i}x, count: 200, rooms: {{prefix: room{i}x, count: 10}}}}\n"
        for i in range(1000)
    )
    text = "cluster: {nodes: 2}\ngroups:\n" + groups
    start = time.perf_counter()
    assert parse_scenario(text).client_count == 200_000
    assert time.perf_counter() - start < 5
    clashing = text.replace("{prefix: room700x,", "{prefix: g5x,").replace(
        "{prefix: room900x,", "{prefix: g3x,"
    )
    assert problem(clashing) == (
        "s.yaml:703: groups[700].rooms.prefix: room 'g5x1' of this group is a client's name;"
        " a room may not have the same name"
    )


def test_nesting_and_documents_are_bounded() -> None:
    """Values nest at most 100 levels deep (the key path shown is cut short),
    and a file holds one YAML document."""
    deep = "[" * 150 + "]" * 150
    message = problem(
        f"cluster: {{nodes: 1}}\ntimeline: [{{at: 1, emit: {{from: n1, data: {deep}}}}}]\n"
    )
    assert message == ("s.yaml:2: timeline[0].emit.data[0][0]...: nested more than 100 levels deep")
    message = problem("cluster: {nodes: 1}\n---\ncluster: {nodes: 2}\n")
    assert message == (
        "s.yaml:2: malformed YAML: expected one document, found a second one (after ---)"
    )
