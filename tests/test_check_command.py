"""``roomsim check TRACE.jsonl`` and ``roomsim.check``: a checker that misses nothing.

Each test takes the trace of one small run (two nodes, the classic Redis
adapter, a client in another namespace, a broker outage, a disconnection),
plants one fault by hand, and asserts that the checker names it: its rule,
message, client and time.  The rules are those of
``docs/scenario-format.md`` ("Checking a trace"): at most once, per-connection
order, no delivery to a non-member, to the excluded sender, to a closed
socket or in another namespace, no delivery before its emit or at a negative
time, and every targeted (message, socket) pair ends as a ``deliver`` or a
``drop`` -- a node that should have received a message says so with a
``relay``, a ``pick`` or a node-level ``drop``, and a node-level ``drop`` is
followed by one ``drop`` for each socket the copy was meant for.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from test_fault_properties import scenarios as fault_scenarios

import roomsim
from roomsim.analysis.check import check
from roomsim.cli import main
from roomsim.runner import run_scenario
from roomsim.scenario import load_scenario, scenario_from_dict
from roomsim.trace import Trace

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

SCENARIO: dict[str, Any] = {
    "seed": 1,
    "cluster": {"nodes": 2, "adapter": "redis"},
    "latency": {"client_ms": 5, "adapter_ms": 2},
    "clients": [
        {"name": "a", "node": "n1", "rooms": ["r"]},
        {"name": "b", "node": "n2", "rooms": ["r"]},
        {"name": "c", "node": "n1"},
        {"name": "d", "node": "n2", "namespace": "/admin", "rooms": ["r"]},
    ],
    "timeline": [
        {"at": 10, "emit": {"id": "m1", "from": "n1", "to": ["r"], "event": "news"}},
        {"at": 11, "emit": {"id": "m2", "from": "n1", "to": ["r"], "event": "news"}},
        {"at": 20, "emit": {"id": "m3", "from": "a", "to": ["r"], "event": "chat"}},
        {"at": 30, "emit": {"id": "m4", "from": "n2", "event": "all"}},
        {"at": 40, "broker": "down"},
        {"at": 41, "emit": {"id": "m5", "from": "n2", "to": ["r"], "event": "news"}},
        {"at": 45, "broker": "up"},
        {"at": 60, "disconnect": {"client": "b"}},
    ],
}


@pytest.fixture(scope="module")
def records() -> list[dict[str, Any]]:
    """The run's records, checked clean (a planted fault is then the only one)."""
    got = list(run_scenario(scenario_from_dict(SCENARIO)).trace)
    assert check(got) == []
    return got


def find(records: list[dict[str, Any]], kind: str, **match: Any) -> int:
    """The position of the one record of ``kind`` whose keys equal ``match``."""
    hits = [
        i
        for i, r in enumerate(records)
        if r["kind"] == kind and all(r.get(k) == v for k, v in match.items())
    ]
    assert len(hits) == 1, (kind, match, hits)
    return hits[0]


def found(records: list[dict[str, Any]]) -> list[tuple[str, str, str | None]]:
    return [(v.rule, v.msg, v.client) for v in check(records)]


def write(tmp_path: Path, records: list[dict[str, Any]]) -> Path:
    path = tmp_path / "trace.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


# -- the command -------------------------------------------------------------------
def test_check_of_a_clean_trace_prints_the_latency_table_and_exits_0(
    tmp_path: Path, records: list[dict[str, Any]]
) -> None:
    """A clean trace: the latency table, "checks: ok", exit status 0."""
    result = CliRunner().invoke(main, ["check", str(write(tmp_path, records))])
    assert result.exit_code == 0, result.output
    assert "p99 ms" in result.output
    assert "room" in result.output and "broadcast" in result.output
    assert "checks: ok" in result.output


def test_check_prints_each_violation_with_rule_message_client_and_time(
    tmp_path: Path, records: list[dict[str, Any]]
) -> None:
    """A planted duplicate: one line with its time, rule, message and client; exit 1."""
    planted = list(records)
    i = find(planted, "deliver", msg="m1", client="a")
    planted.insert(i + 1, {**planted[i], "t": 15.5})
    result = CliRunner().invoke(main, ["check", str(write(tmp_path, planted))])
    assert result.exit_code == 1
    assert "1 violation:" in result.output
    assert "  t=15.5 duplicate: message m1, client a: delivered again" in result.output


def test_check_json_gives_the_same_figures(tmp_path: Path, records: list[dict[str, Any]]) -> None:
    """``--json``: the violations (rule, msg, client, t, detail) and the latency table."""
    planted = list(records)
    i = find(planted, "deliver", msg="m1", client="a")
    planted.insert(i + 1, dict(planted[i]))
    result = CliRunner().invoke(main, ["check", "--json", str(write(tmp_path, planted))])
    assert result.exit_code == 1
    out = json.loads(result.output)
    assert [(v["rule"], v["msg"], v["client"], v["t"]) for v in out["violations"]] == [
        ("duplicate", "m1", "a", 15)
    ]
    # m1, m2 to a and b; m3, m5 to b; and the planted second copy of m1
    assert out["delivery"]["room"]["delivered"] == 7
    assert out["checks"]["ok"] is False and len(out["checks"]["violations"]) == 1


@pytest.mark.parametrize("example", ["failures", "sharded_loss_window", "quickstart"])
def test_check_json_has_the_figures_of_run_json(tmp_path: Path, example: str) -> None:
    """``check --json`` of a saved trace prints every figure of ``run --json``
    that a trace holds, equal to the run's own (counts, drops by reason,
    node rows, the latency table, the checks); only the scenario's name,
    adapter and seed, which a trace does not hold, are left out."""
    trace = tmp_path / "t.jsonl"
    ran = CliRunner().invoke(
        main, ["run", str(EXAMPLES / f"{example}.yaml"), "--json", "--trace", str(trace)]
    )
    assert ran.exit_code == 0, ran.output
    checked = CliRunner().invoke(main, ["check", "--json", str(trace)])
    assert checked.exit_code == 0, checked.output
    run_figures, check_figures = json.loads(ran.stdout), json.loads(checked.stdout)
    assert (check_figures["title"], check_figures["adapter"], check_figures["seed"]) == (
        "t.jsonl",
        None,
        None,
    )
    shared = set(run_figures) & set(check_figures) - {"title", "adapter", "seed"}
    assert shared >= {"deliveries", "drops", "node_rows", "drops_by_reason", "delivery", "checks"}
    assert {key: check_figures[key] for key in shared} == {key: run_figures[key] for key in shared}
    assert run_figures["deliveries"] > 0 and check_figures["violations"] == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("not json\n", "trace.jsonl:1: not a trace: not JSON"),
        (
            '{"t": 0, "kind": "connect", "client": "a", "node": "n1", "sid": "s"}\n[1]\n',
            "trace.jsonl:2: not a trace record",
        ),
        (
            '{"kind": "emit"}\n',
            'trace.jsonl:1: not a trace record: expected a JSON object with "t"',
        ),
        ('{"t": NaN, "kind": "emit"}\n', "trace.jsonl:1: not a trace: not JSON"),
        ('{"t": 0, "kind": "deliver", "msg": "m1"}\n', "trace.jsonl:1: not a trace record: it has"),
    ],
)
def test_check_of_a_file_that_is_not_a_trace_exits_2(
    tmp_path: Path, text: str, expected: str
) -> None:
    """Not a trace: one line naming the file and the line, exit status 2, no traceback."""
    path = tmp_path / "trace.jsonl"
    path.write_text(text)
    result = CliRunner().invoke(main, ["check", str(path)])
    assert result.exit_code == 2
    assert expected in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert "Traceback" not in result.output


def test_check_of_a_missing_file_or_a_folder_exits_2(tmp_path: Path) -> None:
    """A file that cannot be read: one line with the reason, exit status 2."""
    for path, reason in ((tmp_path / "nope.jsonl", "No such file"), (tmp_path, "directory")):
        result = CliRunner().invoke(main, ["check", str(path)])
        assert result.exit_code == 2
        assert reason in result.output and "Traceback" not in result.output


def test_run_and_check_report_the_same_and_run_prints_the_table_without_checks(
    tmp_path: Path,
) -> None:
    """``roomsim run`` checks with the same checker: the same table, "checks: ok";
    with ``--no-check`` the latency table is still printed."""
    trace = tmp_path / "failures.jsonl"
    ran = CliRunner().invoke(main, ["run", str(EXAMPLES / "failures.yaml"), "--trace", str(trace)])
    assert ran.exit_code == 0, ran.output
    checked = CliRunner().invoke(main, ["check", str(trace)])
    assert checked.exit_code == 0
    table = checked.output.splitlines()[1:]  # under the header (run's names the adapter)
    assert "\n".join(table) in ran.output  # the rows and "checks: ok", word for word
    unchecked = CliRunner().invoke(main, ["run", str(EXAMPLES / "failures.yaml"), "--no-check"])
    assert unchecked.exit_code == 0
    assert "p99 ms" in unchecked.output and "checks: ok" not in unchecked.output


def test_roomsim_check_is_the_same_checker() -> None:
    """``roomsim.check`` is the function the command uses."""
    assert roomsim.check is check


# -- no false alarm ----------------------------------------------------------------------
@pytest.mark.parametrize("golden", sorted((EXAMPLES / "golden").glob("*.jsonl")), ids=str)
def test_no_violation_in_any_example_trace(golden: Path) -> None:
    """Every reviewed example trace is clean."""
    scenario = load_scenario(EXAMPLES / f"{golden.stem}.yaml")
    assert check(Trace.read_jsonl(golden), complete=scenario.until is None) == []


# -- planted faults: one test each ----------------------------------------------------------
def test_a_duplicate_delivery_is_caught(records: list[dict[str, Any]]) -> None:
    """At most once: a second ``deliver`` of m4 to c."""
    planted = list(records)
    i = find(planted, "deliver", msg="m4", client="c")
    planted.insert(i + 1, dict(planted[i]))
    assert found(planted) == [("duplicate", "m4", "c")]


def test_a_delivery_to_the_excluded_sender_is_caught(records: list[dict[str, Any]]) -> None:
    """``socket.to("r").emit`` from a: a gets m3 (its node n1 picked it, in room r)."""
    planted = list(records)
    i = find(planted, "pick", msg="m3", node="n1")
    planted.insert(i + 1, {"t": 25, "kind": "deliver", "msg": "m3", "client": "a", "node": "n1"})
    planted.sort(key=lambda r: r["t"])
    assert ("sender", "m3", "a") in found(planted)


def test_a_delivery_to_a_non_member_is_caught(records: list[dict[str, Any]]) -> None:
    """m1 goes to room r: c (on n1, in no room) gets it."""
    planted = list(records)
    i = find(planted, "deliver", msg="m1", client="a")
    planted.insert(i + 1, {**planted[i], "client": "c"})
    assert ("non-member", "m1", "c") in found(planted)


def test_a_reordered_pair_on_one_connection_is_caught(records: list[dict[str, Any]]) -> None:
    """n1 wrote m1 then m2 to a; a gets m2 first (times swapped too, so the trace stays
    in time order)."""
    planted = list(records)
    i = find(planted, "deliver", msg="m1", client="a")
    j = find(planted, "deliver", msg="m2", client="a")
    planted[i], planted[j] = (
        {**planted[j], "t": planted[i]["t"]},
        {**planted[i], "t": planted[j]["t"]},
    )
    assert found(planted) == [("order", "m1", "a")]


def test_a_delivery_after_the_sockets_disconnect_is_caught(records: list[dict[str, Any]]) -> None:
    """b disconnects itself at 60; a delivery of m5 (picked while b was connected) at 61."""
    planted = list(records)
    i = find(planted, "deliver", msg="m5", client="b")
    moved = {**planted.pop(i), "t": 61}
    planted.append(moved)
    assert found(planted) == [("disconnected", "m5", "b")]


def test_a_delivery_in_another_namespace_is_caught(records: list[dict[str, Any]]) -> None:
    """m1 is emitted in ``/``: d, in room r of ``/admin`` on n2, gets it instead of b."""
    planted = list(records)
    i = find(planted, "deliver", msg="m1", client="b")
    planted[i] = {**planted[i], "client": "d"}
    got = found(planted)
    assert ("namespace", "m1", "d") in got
    assert ("lost", "m1", "b") in got  # and b's pair has no outcome


def test_a_delivery_before_its_emit_is_caught(records: list[dict[str, Any]]) -> None:
    """c's delivery of m4 moved above the emit of m4 (and given the time before it)."""
    planted = list(records)
    i = find(planted, "deliver", msg="m4", client="c")
    moved = {**planted.pop(i), "t": 29}
    planted.insert(find(planted, "emit", msg="m4"), moved)
    got = found(planted)
    assert ("time", "m4", "c") in got
    assert ("lost", "m4", "c") in got  # the pair n1 picked has no outcome after it


def test_a_delivery_at_a_negative_time_is_caught(records: list[dict[str, Any]]) -> None:
    """A trace whose first delivery says t = -5."""
    planted = [dict(r) for r in records]
    i = find(planted, "deliver", msg="m1", client="a")
    planted[i]["t"] = -5
    violations = check(planted)
    assert {(v.rule, v.t) for v in violations} == {("time", -5)}
    assert any("negative time" in v.detail and v.client == "a" for v in violations)


def test_a_targeted_pair_with_no_outcome_is_caught(records: list[dict[str, Any]]) -> None:
    """n2 picked b for m2; the ``deliver`` is gone."""
    planted = list(records)
    del planted[find(planted, "deliver", msg="m2", client="b")]
    assert ("lost", "m2", "b") in found(planted)


def test_a_whole_node_that_said_nothing_is_caught(records: list[dict[str, Any]]) -> None:
    """m4 (``io.emit`` on n2) should reach n1's sockets a and c: n1's ``relay``,
    ``pick`` and both ``deliver`` records are gone."""
    planted = [r for r in records if not (r.get("msg") == "m4" and r.get("node") == "n1")]
    assert found(planted) == [("lost", "m4", None)]
    (violation,) = check(planted)
    assert "node n1" in violation.detail


def test_a_missing_broker_down_drop_of_a_socket_is_caught(records: list[dict[str, Any]]) -> None:
    """The broker was down when n2 published m5: n1 has a node-level ``drop`` and a
    must have one for its socket too; that ``drop`` is gone."""
    planted = list(records)
    del planted[find(planted, "drop", msg="m5", client="a", reason="broker down")]
    assert found(planted) == [("lost", "m5", "a")]


def test_a_clean_trace_of_every_fault_kind_stays_clean(records: list[dict[str, Any]]) -> None:
    """The planted faults above are the only violations: the untouched trace is clean,
    read back from a file as well as in memory."""
    assert check(records) == []
    assert check(iter(records)) == []


# -- planted faults in random runs -------------------------------------------------------
PLANTS = ("remove a deliver", "repeat a deliver", "remove a socket's drop", "silence a node")
#: records that change who is where on a node
MOVES = {"connect", "join", "leave", "disconnect", "crash", "restart"}


def silent_nodes(records: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """(msg, node) of a broker copy a node acted on (``relay`` with targets) where
    nothing moved on that node between the emit and the relay, and no socket left
    it and it did not crash after the emit (either excuses a node that says
    nothing: its room, and so its subscription, may be gone)."""
    emitted = {r["msg"]: i for i, r in enumerate(records) if r["kind"] == "emit"}
    out = []
    for i, r in enumerate(records):
        if r["kind"] == "relay" and r.get("targets") and not r.get("ignored"):
            start = emitted.get(r["msg"])
            if start is None:
                continue
            node = r["node"]
            moved = any(m["kind"] in MOVES and m.get("node") == node for m in records[start:i])
            left = any(
                m["kind"] in ("leave", "disconnect", "crash") and m.get("node") == node
                for m in records[start:]
            )
            if not moved and not left:
                out.append((r["msg"], node))
    return out


@pytest.mark.slow
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=fault_scenarios(), plant=st.sampled_from(PLANTS), pick=st.randoms())
def test_a_fault_planted_in_any_run_is_caught(data: dict[str, Any], plant: str, pick: Any) -> None:
    """Whatever the run (faults, loss, reconnections, every kind of emit; the
    scenarios of ``test_fault_properties``), removing one ``deliver``, repeating
    one, removing one socket's ``drop``, or every record of a node that acted on
    a broker's copy, is a violation the checker reports."""
    records = list(run_scenario(scenario_from_dict(data)).trace)
    acks = {r["msg"] for r in records if r["kind"] == "emit" and r.get("ack")}
    if plant == "silence a node":
        places = silent_nodes(records)
        assume(places)
        msg, node = pick.choice(places)
        planted = [r for r in records if not (r.get("msg") == msg and r.get("node") == node)]
        assert check(planted), f"{node} said nothing of {msg}"
        return
    if plant == "remove a socket's drop":
        places = [
            i
            for i, r in enumerate(records)
            if r["kind"] == "drop"
            and "client" in r
            and "node" in r
            and r["reason"] != "disconnected"  # (also a socket.emit to a closed socket)
        ]
    else:
        places = [
            i
            for i, r in enumerate(records)
            if r["kind"] == "deliver" and (plant == "remove a deliver" or r["msg"] not in acks)
        ]
    assume(places)
    i = pick.choice(places)
    planted = list(records)
    if plant == "repeat a deliver":
        planted.insert(i + 1, dict(planted[i]))
    else:
        del planted[i]
    assert check(planted), f"{plant} at record {i}: {records[i]}"
