"""The garbage-collector policy of a run: fast, and nothing kept after it.

Rule: what a run connects in bulk is taken out of the collector's sight
(``gc.freeze``) only while :func:`roomsim.run_scenario` runs; when it
returns, the objects are handed back, so a cluster the caller drops is
collected like any other object.  Objects someone else froze are left
alone.
"""

from __future__ import annotations

import gc
import weakref

import pytest

from roomsim.runner import run_scenario
from roomsim.scenario import scenario_from_dict

GROUP = {
    "cluster": {"nodes": 2, "adapter": "redis"},
    "groups": [{"prefix": "u", "count": 50, "rooms": {"prefix": "r", "count": 5}}],
    "timeline": [{"at": 5, "emit": {"id": "m", "from": "n1", "to": ["r1"], "event": "e"}}],
}


@pytest.fixture(autouse=True)
def _no_frozen_objects():
    gc.unfreeze()
    yield
    gc.unfreeze()


def test_run_hands_back_what_it_froze_and_a_dropped_cluster_is_collected():
    """After run_scenario returns nothing stays frozen, and the cluster (a web
    of cycles: clients, sockets, namespaces) is freed once the caller drops it."""
    frozen_during = []

    def peek(scenario):
        cluster = run_scenario(scenario)
        frozen_during.append(gc.get_freeze_count())
        return cluster

    cluster = peek(scenario_from_dict(GROUP))
    assert len(cluster.clients) == 50
    assert frozen_during == [0]
    alive = weakref.ref(cluster)
    del cluster
    gc.collect()
    assert alive() is None


def test_the_run_freezes_its_bulk_clients_while_it_runs():
    """Inside the run (at the emit, after the group connected in bulk) the
    collector no longer tracks the group's objects."""
    seen = []
    import roomsim.runner as runner

    real = runner._Player._emit

    def spy(self, body):
        seen.append(gc.get_freeze_count())
        return real(self, body)

    runner._Player._emit = spy
    try:
        run_scenario(scenario_from_dict(GROUP))
    finally:
        runner._Player._emit = real
    assert len(seen) == 1 and seen[0] > 50


def test_objects_someone_else_froze_are_left_alone():
    """With objects already frozen (before a fork, say), a run neither adds
    to them nor hands them back."""
    kept = [[i] for i in range(1000)]
    gc.freeze()
    cluster = run_scenario(scenario_from_dict(GROUP))
    tracked = {id(o) for o in gc.get_objects()}  # the frozen generation is not listed
    assert id(cluster) in tracked  # the run froze nothing of its own
    assert id(kept) not in tracked  # and handed back nothing of the others'
