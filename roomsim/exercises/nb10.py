"""Exercises of notebook 10: writing a scenario file, and reading a trace with pandas."""

from __future__ import annotations

from collections import Counter
from typing import Any

from roomsim.exercises import Result, Variant, exercise
from roomsim.exercises.answers import AnswerError, describe, text, whole_number

# -- 10.1 ---------------------------------------------------------------------------


def _setup_10_1(v: Variant) -> tuple[str, str, str]:
    """A variant's two clients (the one that gets m1 only, the one that gets both) and room."""
    if v.is_default:
        return "bob", "carol", "news"
    return v.name("bob"), v.name("carol"), v.room("quiet")


def _scenario_10_1(v: Variant) -> str:
    one, both, room = _setup_10_1(v)
    return (
        f"Write a scenario file (YAML, as a string) in which m1 and m2 are both sent from"
        f" node n1 to the room {room!r}, {one} receives m1 and not m2, and {both} receives"
        " both; the run must pass roomsim's checks."
    )


@exercise(
    "10.1",
    "Write a scenario: bob receives m1 but not m2",
    answer="a string: the scenario's YAML text",
    rule=(
        "a node picks the recipients when it emits (or when the broker's copy comes): bob"
        " must be in news then for m1, and out of it (or gone) by then for m2."
    ),
    takes_variant=True,
    scenario=_scenario_10_1,
)
def bob_gets_m1_not_m2(answer: Any, v: Variant) -> Result:
    """The answer is the text of a scenario file (YAML) meeting the spec of the notebook:
    m1 and m2 are both sent from node n1 to the room news; bob receives m1 and not m2;
    carol receives both (a variant renames bob, carol and news)."""
    from roomsim.analysis.check import check
    from roomsim.runner import run_scenario
    from roomsim.scenario import ScenarioError, parse_scenario

    one, both, room = _setup_10_1(v)
    text(answer)
    try:
        scenario = parse_scenario(answer, path="your scenario")
    except ScenarioError as err:
        return Result(False, f"the file does not load: {err}")
    trace = run_scenario(scenario).trace
    emits = {r["msg"]: r for r in trace.records("emit")}
    for msg in ("m1", "m2"):
        emit = emits.get(msg)
        if emit is None:
            return Result(False, f"no emit with id {msg}: add one to the timeline ({{id: {msg}}}).")
        if emit["from"] != "n1" or list(emit["to"]) != [room]:
            return Result(
                False,
                f"{msg} must be sent from node n1 to the room {room}:"
                f" {{emit: {{id: {msg}, from: n1, to: [{room}]}}}}.",
            )
    names = set(trace.tally.clients)
    missing = {one, both} - names
    if missing:
        return Result(False, f"declare the client(s) {', '.join(sorted(missing))}.")
    got = trace.deliveries()
    if ("m1", both) not in got or ("m2", both) not in got:
        return Result(False, f"{both} must receive both: keep them in {room} the whole time.")
    if ("m1", one) not in got:
        return Result(
            False,
            f"{one} did not receive m1: they must be in {room} when n1 sends m1 (and still"
            " connected when it arrives).",
        )
    if ("m2", one) in got:
        node = next(r["node"] for r in trace.records("deliver", msg="m2", client=one))
        when = "when it emits" if node == "n1" else "when the broker's copy comes"
        return Result(
            False,
            f"{one} received m2 as well. They are on {node}, which picks the recipients {when}:"
            f" {one} must have left {room} (or gone) by then, not merely before m2 arrives.",
        )
    violations = check(trace, complete=scenario.until is None)
    if violations:
        return Result(False, f"the run breaks a rule: {violations[0]}")
    return Result(True, f"{one} got m1 and not m2, {both} got both, and the checks pass.")


# -- 10.2 ---------------------------------------------------------------------------

#: the scenario of the notebook: roomsim generate big.json --clients 300 --nodes 3
#: --rooms 30 --room-emits 20 --seed 1 (every other option at its default)
GENERATED: dict[str, Any] = {"clients": 300, "nodes": 3, "rooms": 30, "room_emits": 20, "seed": 1}


def _deliveries_by_node() -> tuple[dict[str, int], dict[str, int]]:
    """Per node: deliveries of messages emitted on another node, and all its deliveries."""
    from roomsim.generate import generate_scenario
    from roomsim.runner import run_scenario
    from roomsim.scenario import scenario_from_dict

    trace = run_scenario(scenario_from_dict(generate_scenario(**GENERATED))).trace
    emitted_on = {r["msg"]: r["node"] for r in trace.records("emit")}
    remote: Counter[str] = Counter()
    every: Counter[str] = Counter()
    for r in trace.records("deliver"):
        every[r["node"]] += 1
        if emitted_on[r["msg"]] != r["node"]:
            remote[r["node"]] += 1
    return dict(remote), dict(every)


@exercise(
    "10.2",
    "Per node, how many deliveries came from another node's emit?",
    answer='a dict {node: whole number}, such as {"n1": 10, "n2": 20, "n3": 30}',
    rule=(
        "keep the deliver records whose msg was emitted on another node: map each msg to the"
        " node of its emit record, then count per delivering node."
    ),
)
def remote_deliveries(answer: Any) -> Result:
    """The answer is ``{node: count}``: per node, its deliveries of messages emitted on
    another node."""
    if not isinstance(answer, dict) or not answer:
        raise AnswerError(
            f'give a dict such as {{"n1": 10, "n2": 20, "n3": 30}}, not {describe(answer)}'
        )
    got = {str(k): whole_number(v, f"the count of {k}") for k, v in answer.items()}
    remote, every = _deliveries_by_node()
    if set(got) != set(remote):
        return Result(False, f"give one count per node: {', '.join(sorted(remote))}.")
    if got == remote:
        return Result(
            True,
            f"{dict(sorted(remote.items()))}: each of these deliveries crossed the broker"
            " first (and took adapter_ms longer).",
        )
    if got == every:
        return Result(
            False,
            "that is every delivery of each node. Keep only the deliveries whose message was"
            " emitted on another node: map each deliver's msg to its emit's node.",
        )
    wrong = sorted(n for n in remote if got[n] != remote[n])
    return Result(
        False,
        f"not the right count for {', '.join(wrong)}. Compare each deliver record's node"
        " with the node of the emit record of the same msg.",
    )
