"""Every mistake of a scenario at once, in line order, one line each (as ruff does).

``roomsim validate`` (and ``run``, before running) lists each error as
``file:line: key: problem``, with "did you mean" for misspelt keys,
clients and nodes, then ``found N errors``; ``--max-errors N`` shows at
most N.  A room nobody joins whose name is close to a joined one is a
warning: legal in Socket.IO, so the exit status does not change.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest
from click.testing import CliRunner

from roomsim.cli import main
from roomsim.examples import names as example_names
from roomsim.examples import path as example_path
from roomsim.scenario import ScenarioError, load_scenario, parse_scenario

# six mistakes: an unknown key (line 4), an unknown node (5), a misspelt
# sender (7), a negative time (8), a misspelt client (9), a misspelt node (11)
BROKEN = """\
cluster: {nodes: [east, west]}
clients:
  - {name: alice, node: east, rooms: [lobby]}
  - {name: bob, nod: west}
  - {name: carol, node: north}
timeline:
  - {at: 5, emit: {from: alcie, to: lobby}}
  - {at: -1, join: {client: bob, rooms: [x]}}
  - {at: 7, join: {client: carrol, rooms: [x]}}
  - {at: 8, emit: {from: east, to: lobby}}
  - {at: 9, crash: {node: wset}}
"""
EXPECTED = [
    "4: clients[1].nod: unknown key 'nod' (did you mean 'node'?)",
    "5: clients[2].node: unknown node 'north'",
    "7: timeline[0].emit.from: unknown client or node 'alcie' (did you mean 'alice'?)",
    "8: timeline[1].at: expected a time in ms (a number >= 0), got -1",
    "9: timeline[2].join.client: unknown client 'carrol' (did you mean 'carol'?)",
    "11: timeline[4].crash.node: unknown node 'wset' (did you mean 'west'?)",
]


def write(tmp_path: Path, text: str, name: str = "s.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def invoke(*args: str):
    return CliRunner().invoke(main, list(args))


def test_validate_lists_every_error_in_line_order(tmp_path: Path) -> None:
    """Value errors (pydantic's) and reference errors (unknown names) come
    together, one line each, in line order, then the count; exit 2."""
    path = write(tmp_path, BROKEN)
    result = invoke("validate", str(path))
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        *(f"roomsim: {path}:{line}" for line in EXPECTED),
        "roomsim: found 6 errors",
    ]


def test_run_lists_every_error_before_running(tmp_path: Path) -> None:
    """``run`` checks the same way before it starts: the same lines, no trace."""
    path = write(tmp_path, BROKEN)
    trace = tmp_path / "t.jsonl"
    result = invoke("run", str(path), "--trace", str(trace))
    assert result.exit_code == 2
    assert result.stderr.splitlines()[:6] == [f"roomsim: {path}:{line}" for line in EXPECTED]
    assert not trace.exists()


def test_max_errors_shows_the_first_n_and_says_how_many_more(tmp_path: Path) -> None:
    """``--max-errors 2``: the first two lines, then how many were not shown;
    ``--max-errors 0`` shows every one."""
    path = write(tmp_path, BROKEN)
    lines = invoke("validate", str(path), "--max-errors", "2").stderr.splitlines()
    assert lines == [
        *(f"roomsim: {path}:{line}" for line in EXPECTED[:2]),
        "roomsim: found 6 errors; 4 not shown (--max-errors 0 for more)",
    ]
    assert len(invoke("validate", str(path), "--max-errors", "0").stderr.splitlines()) == 7


def test_many_errors_are_counted_and_the_first_twenty_shown(tmp_path: Path) -> None:
    """A file with 500 steps naming an unknown client: 20 lines by default,
    and the count of all 500."""
    steps = "".join(f"  - {{at: {k}, join: {{client: zoe, rooms: [r]}}}}\n" for k in range(500))
    path = write(
        tmp_path, "cluster: {nodes: 1}\nclients: [{name: al, node: n1}]\ntimeline:\n" + steps
    )
    lines = invoke("validate", str(path)).stderr.splitlines()
    assert len(lines) == 21
    assert lines[0] == f"roomsim: {path}:4: timeline[0].join.client: unknown client 'zoe'"
    assert lines[19].startswith(f"roomsim: {path}:23: timeline[19].join.client")
    assert lines[-1] == "roomsim: found 500 errors; 480 not shown (--max-errors 0 for more)"


def test_a_broken_client_is_not_also_called_unknown(tmp_path: Path) -> None:
    """A client whose own entry is wrong is left out of the reference checks
    under its name: the steps naming it get no second, echoing error."""
    text = (
        "cluster: {nodes: 1}\n"
        "clients:\n"
        "  - {name: alice, node: n1, connect_at: soon}\n"
        "timeline:\n"
        "  - {at: 1, join: {client: alice, rooms: [r]}}\n"
        "  - {at: 2, emit: {from: alice, to: r}}\n"
    )
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(text, "s.yaml")
    assert [str(p) for p in caught.value.problems] == [
        "s.yaml:3: clients[0].connect_at: expected a time in ms (a number >= 0), got 'soon'"
    ]


def test_a_broken_cluster_stops_the_reference_checks() -> None:
    """With the nodes themselves wrong, no node can be called unknown: only
    the value errors are said."""
    text = "cluster: {nodes: [n1, 'bad name']}\nclients: [{name: a, node: n1, ack: maybe}]\n"
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(text, "s.yaml")
    assert [p.key for p in caught.value.problems] == ["cluster.nodes[1]", "clients[0].ack"]


def test_the_error_text_is_the_first_problem_and_it_pickles() -> None:
    """``str(err)`` is the first problem's line (what one-line callers show);
    every problem survives a pickle (a sweep's workers send errors back)."""
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(BROKEN, "s.yaml")
    err = caught.value
    assert str(err) == "s.yaml:" + EXPECTED[0]
    again = pickle.loads(pickle.dumps(err))
    assert [str(p) for p in again.problems] == [f"s.yaml:{line}" for line in EXPECTED]
    assert again.total == 6


ROOMS = """\
cluster: {nodes: 1}
clients:
  - {name: alice, node: n1, rooms: [lobby]}
groups:
  - {prefix: user, count: 3, rooms: {prefix: desk, count: 2}}
timeline:
  - {at: 1, join: {client: alice, rooms: [kitchen]}}
  - {at: 2, emit: {from: n1, to: lobyy}}
  - {at: 3, emit: {from: n1, to: [desk2, kitchn]}}
  - {at: 4, emit: {from: n1, to: [nobody-here, alice, user2]}}
  - {at: 5, emit: {from: n1, except: lobbby}}
  - {at: 6, leave: {client: alice, rooms: [kitchem]}}
"""


def test_a_misspelt_room_is_a_warning_and_the_status_stays_0(tmp_path: Path) -> None:
    """Emitting to a room nobody joins is legal (and so are leaving it and leaving
    it out), so a room in ``to``, ``except`` or a leave that is close to a joined
    one (declared or joined by a step) is a warning with "did you mean", on
    stderr; a room of a group's rule, a client's own room, or a name close to
    no room, is not warned about."""
    path = write(tmp_path, ROOMS)
    result = invoke("validate", str(path))
    assert result.exit_code == 0
    assert result.stdout == f"{path}: ok (1 node, 4 clients, 6 steps)\n"
    assert result.stderr.splitlines() == [
        f"roomsim: warning: {path}:8: timeline[1].emit.to:"
        " no client ever joins room 'lobyy' (did you mean 'lobby'?)",
        f"roomsim: warning: {path}:9: timeline[2].emit.to[1]:"
        " no client ever joins room 'kitchn' (did you mean 'kitchen'?)",
        f"roomsim: warning: {path}:11: timeline[4].emit.except:"
        " no client ever joins room 'lobbby' (did you mean 'lobby'?)",
        f"roomsim: warning: {path}:12: timeline[5].leave.rooms:"
        " no client ever joins room 'kitchem' (did you mean 'kitchen'?)",
    ]
    assert [w.key for w in load_scenario(path).warnings] == [
        "timeline[1].emit.to",
        "timeline[2].emit.to[1]",
        "timeline[4].emit.except",
        "timeline[5].leave.rooms",
    ]


def test_run_prints_the_warnings_and_runs(tmp_path: Path) -> None:
    """``run`` says the same warnings before running, and runs (exit 0); ``--quiet``
    leaves them out (it prints nothing but errors and violations)."""
    path = write(tmp_path, ROOMS)
    result = invoke("run", str(path))
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines()[0] == (
        f"roomsim: warning: {path}:8: timeline[1].emit.to:"
        " no client ever joins room 'lobyy' (did you mean 'lobby'?)"
    )
    assert "checks: ok" in result.stdout
    quiet = invoke("run", str(path), "-q")
    assert quiet.exit_code == 0 and "warning" not in quiet.stderr


def test_a_broken_list_of_clients_excuses_every_name() -> None:
    """When ``clients`` itself is not a list, the steps naming clients are not all
    called unknown: only the list's own error is said, beside the others."""
    text = (
        "cluster: {nodes: 1}\n"
        "clients: {name: alice, node: n1}\n"
        "timeline:\n"
        "  - {at: 1, join: {client: alice, rooms: [r]}}\n"
        "  - {at: -2, crash: {node: n1}}\n"
    )
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(text, "s.yaml")
    assert [p.key for p in caught.value.problems] == ["clients", "timeline[1].at"]


@pytest.mark.parametrize("name", example_names())
def test_the_shipped_examples_have_no_warnings(name: str) -> None:
    """Every example is clean: no room it emits to looks like a typo."""
    assert load_scenario(example_path(name)).warnings == ()
