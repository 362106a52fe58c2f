"""Calls scheduled for one instant can share one event without changing order.

Rule: inside :func:`one_event_per_instant`, the calls due at one instant
run in the order they were scheduled, before or after other events exactly
as one event per call would, and so do the calls they schedule in turn
(at the same instant or later); only the number of SimPy events changes.
"""

from __future__ import annotations

import simpy
from hypothesis import given
from hypothesis import strategies as st

from roomsim._sched import call_later, one_event_per_instant

#: delays that make ties: several calls at one instant, chains that meet others
delays = st.sampled_from([0.0, 0.1, 0.2, 0.30000000000000004, 0.3, 1.0])
plans = st.lists(st.tuples(delays, st.lists(delays, max_size=3)), min_size=1, max_size=25)


def _play(plan, outside, batched: bool) -> tuple[list, int]:
    """Run ``plan`` (calls, each scheduling follow-ups); return the order and the events."""
    env = simpy.Environment()
    seen: list = []
    events = [0]
    real_step = env.step

    def step() -> None:
        events[0] += 1
        real_step()

    env.step = step  # type: ignore[method-assign]

    def call(name: str, follow: list[float]) -> None:
        seen.append((env.now, name))
        for j, d in enumerate(follow):
            call_later(env, d, seen.append, (f"{name}.{j}", "follow-up"))

    env.run(until=100.0)  # 100 + 0.3 == 100 + 0.30000000000000004: sums can tie
    for i, d in enumerate(outside):  # other events at the same instants, before the block
        call_later(env, d, seen.append, (f"before{i}", "other"))
    if batched:
        with one_event_per_instant(env):
            for i, (d, follow) in enumerate(plan):
                call_later(env, d, call, f"c{i}", follow)
    else:
        for i, (d, follow) in enumerate(plan):
            call_later(env, d, call, f"c{i}", follow)
    for i, d in enumerate(outside):  # and after it
        call_later(env, d, seen.append, (f"after{i}", "other"))
    env.run()
    return seen, events[0]


@given(plan=plans, outside=st.lists(delays, max_size=4))
def test_the_block_keeps_the_order_of_one_event_per_call(plan, outside):
    """The same calls in the same order, at the same instants; never more events."""
    one, n_one = _play(plan, outside, batched=False)
    shared, n_shared = _play(plan, outside, batched=True)
    assert shared == one
    assert n_shared <= n_one


def test_a_thousand_calls_at_one_instant_are_one_event():
    """1,000 calls due at once inside the block: one event, in their order."""
    env = simpy.Environment()
    seen: list[int] = []
    with one_event_per_instant(env):
        for i in range(1000):
            call_later(env, 5.0, seen.append, i)
    assert len(env._queue) == 1
    env.run()
    assert seen == list(range(1000)) and env.now == 5.0
