"""The broker finds a channel's subscribers by lookup, with the answers a scan gives.

Rule: whatever subscriptions were made and forgotten (channels, glob
patterns, removals, a node dropped), the subscriptions a message on a channel
reaches are the ones a scan of every live subscription, in the order they
were made, would find; ``numsub`` counts the same channel subscriptions; and
after the broker comes back, the nodes reconnect in the order drawn from the
nodes that have subscriptions, taken in the order of their first one.
"""

from __future__ import annotations

import fnmatch

import simpy
from hypothesis import given, settings
from hypothesis import strategies as st

from roomsim.broker import Broker, BrokerMessage, Subscription, Subscriptions

NODES = ["n1", "n2", "n3"]
CHANNELS = ["ch#/#", "ch#/#a#", "ch#/#b#", "ch#/#ab#", "other"]
PATTERNS = ["ch#/#*", "ch#/#a*", "ch#/#?#", "ch#/#[ab]#", "*"]

operations = st.lists(
    st.one_of(
        st.tuples(st.just("subscribe"), st.sampled_from(NODES), st.sampled_from(CHANNELS)),
        st.tuples(st.just("psubscribe"), st.sampled_from(NODES), st.sampled_from(PATTERNS)),
        st.tuples(st.just("remove"), st.integers(0, 40)),
        st.tuples(st.just("drop"), st.sampled_from(NODES)),
    ),
    max_size=40,
)


def _scan(made: list[Subscription], channel: str) -> list[Subscription]:
    """The model: every live subscription, in the order made, that the channel matches."""
    return [
        s
        for s in made
        if (fnmatch.fnmatchcase(channel, s.target) if s.pattern else s.target == channel)
    ]


@settings(max_examples=150, deadline=None)
@given(operations)
def test_lookup_gives_the_subscribers_a_scan_gives_in_the_same_order(ops: list[tuple]) -> None:
    """After any mix of subscriptions and removals, the index answers as the scan."""
    broker = Broker(simpy.Environment())
    made: list[Subscription] = []  # the model: live subscriptions in the order made
    for op in ops:
        if op[0] == "subscribe":
            made.append(broker.subscribe(op[2], print, node=op[1], immediate=True))
        elif op[0] == "psubscribe":
            made.append(broker.psubscribe(op[2], print, node=op[1]))
        elif op[0] == "remove" and made:
            sub = made.pop(op[1] % len(made))
            broker.remove(sub)
            broker.remove(sub)  # forgetting twice changes nothing
        elif op[0] == "drop":
            broker.drop_node(op[1])
            made = [s for s in made if s.node != op[1]]
    for channel in [*CHANNELS, "ch#/#zz#"]:
        assert broker.subscribers(channel) == _scan(made, channel)
        channel_subs = [s for s in made if not s.pattern and s.target == channel]
        assert broker.numsub(channel) == len(channel_subs)
    assert list(broker._subs) == made
    assert broker._subs.nodes() == list(dict.fromkeys(s.node for s in made))


def test_a_message_reaches_pattern_and_channel_subscribers_in_subscription_order() -> None:
    """Copies are handed out in the order the subscriptions were made, whether
    they match by channel or by pattern (n2's channel before n3's pattern)."""
    env = simpy.Environment()
    broker = Broker(env, hop_ms=1)
    got: list[str] = []
    broker.psubscribe("news#*", lambda ch, m: got.append("n1 pattern"), node="n1")
    broker.subscribe("news#a#", lambda ch, m: got.append("n2 channel"), node="n2", immediate=True)
    broker.psubscribe("news#*", lambda ch, m: got.append("n3 pattern"), node="n3")
    broker.subscribe("news#b#", lambda ch, m: got.append("n4 other"), node="n4", immediate=True)
    broker.publish("news#a#", BrokerMessage(None, "m1", "n9"))
    env.run()
    assert got == ["n1 pattern", "n2 channel", "n3 pattern"]


def test_the_index_forgets_empty_channels() -> None:
    """A channel whose last subscription went is no longer in the table (a run
    that creates and deletes a million rooms does not keep a million keys)."""
    subs = Subscriptions()
    sub = subs.add(Subscription("n1", "room#1#", print))
    subs.remove(sub)
    assert subs.matching("room#1#") == [] and subs._exact == {} and subs._by_node == {}
