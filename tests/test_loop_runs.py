"""A run of work items charged at once is the same as charging them in turn.

Rule: items that all reach a loop at one instant are served back to back,
first come first served; :meth:`NodeLoop.charge_all` (what a bulk
connection uses) must leave the loop and every one of its figures exactly
as :meth:`NodeLoop.charge` of each item would, whatever work was there before.
"""

from __future__ import annotations

import simpy
from hypothesis import given
from hypothesis import strategies as st

from roomsim.loop import LoopStats, NodeLoop
from roomsim.profile import CostProfile

costs = st.lists(
    st.one_of(st.just(0.0), st.floats(min_value=0.0, max_value=30.0, allow_nan=False)),
    max_size=30,
)
kinds = st.sampled_from(["connect", "join", "emit"])
earlier = st.lists(st.tuples(st.floats(0.0, 40.0), st.floats(0.0, 30.0)), max_size=5)


def _loop_with(history: list[tuple[float, float]]) -> tuple[simpy.Environment, NodeLoop]:
    """A loop that was charged ``history`` (instant, cost) before, up to the last instant."""
    env = simpy.Environment()
    loop = NodeLoop(env, CostProfile())
    for at, cost in sorted(history):
        _advance(env, at)
        loop.charge(cost, "other")
    return env, loop


def _advance(env: simpy.Environment, to: float) -> None:
    if to > env.now:
        env.run(until=to)


def _state(loop: NodeLoop) -> dict:
    stats = loop.stats
    state = {k: getattr(stats, k) for k in LoopStats.__slots__ if k != "_done"}
    return {**state, "done": list(stats._done), "busy_until": loop.busy_until}


@given(history=earlier, data=st.data())
def test_charge_all_is_charge_of_each_in_turn(history, data):
    """Whatever the loop's backlog (idle, or still busy with earlier work),
    charging a run of items at once ends in the same state as one by one."""
    run = data.draw(costs)
    _assert_same_as_one_by_one(history, run, [data.draw(kinds) for _ in run], data)


def _assert_same_as_one_by_one(history, run, named, data) -> None:
    """``charge_all(run)`` and ``charge`` of each item, at a drawn instant after
    ``history``, leave two loops in the same state."""
    env_a, one = _loop_with(history)
    env_b, bulk = _loop_with(history)
    now = data.draw(st.floats(0.0, 60.0))
    _advance(env_a, now)
    _advance(env_b, now)
    for cost, kind in zip(run, named, strict=True):
        one.charge(cost, kind)
    bulk.charge_all(run, named)
    assert _state(bulk) == _state(one)


@given(
    history=earlier,
    run=st.lists(st.floats(min_value=0.001, max_value=30.0), min_size=1, max_size=40),
    data=st.data(),
)
def test_a_run_that_moves_the_clock_is_charge_of_each_in_turn(history, run, data):
    """The same rule for runs whose every item takes time (what a bulk
    connection charges: its connections and joins), across bucket edges."""
    named = ["connect" if i % 2 else "join" for i in range(len(run))]
    _assert_same_as_one_by_one(history, run, named, data)
