"""The garbage-collector policy of a run: fast, and nothing kept after it.

Rule: what a run connects in bulk (a batch of at least ``FREEZE_AFTER``
clients) is taken out of the collector's sight (``gc.freeze``) only while
:func:`roomsim.runner.run_scenario` runs; when it returns, the objects are
handed back, so a cluster the caller drops is collected like any other
object.  Objects someone else froze are left alone.  In the ``roomsim``
command (``for_process``) the last run's objects stay frozen until exit, and
an earlier run's are handed back when the next run begins.
"""

from __future__ import annotations

import gc
import weakref

import pytest

import roomsim._gc as gc_policy
from roomsim.runner import run_scenario
from roomsim.scenario import scenario_from_dict

GROUP = {
    "cluster": {"nodes": 2, "adapter": "redis"},
    "groups": [{"prefix": "u", "count": 50, "rooms": {"prefix": "r", "count": 5}}],
    "timeline": [{"at": 5, "emit": {"id": "m", "from": "n1", "to": ["r1"], "event": "e"}}],
}


@pytest.fixture(autouse=True)
def _small_batches_freeze(monkeypatch):
    """These runs are small: let a batch of 50 clients count as large."""
    gc.unfreeze()
    monkeypatch.setattr(gc_policy, "FREEZE_AFTER", 1)
    yield
    gc.unfreeze()
    gc_policy._froze = False


def _tracked(obj) -> bool:
    """Whether the collector still looks at ``obj`` (frozen objects are not listed)."""
    return any(o is obj for o in gc.get_objects())


def test_run_hands_back_what_it_froze_and_a_dropped_cluster_is_collected():
    """After run_scenario returns nothing stays frozen, and the cluster (a web
    of cycles: clients, sockets, namespaces) is freed once the caller drops it."""
    cluster = run_scenario(scenario_from_dict(GROUP))
    assert len(cluster.clients) == 50
    assert gc.get_freeze_count() == 0
    alive = weakref.ref(cluster)
    del cluster
    gc.collect()
    assert alive() is None


def test_the_run_freezes_its_bulk_clients_while_it_runs(monkeypatch):
    """Inside the run (at the emit, after the group connected in bulk) the
    collector no longer tracks the group's clients."""
    import roomsim.runner as runner

    seen = []
    real = runner._Player._emit

    def spy(self, body):
        seen.append(_tracked(self.cluster.clients["u1"]))
        return real(self, body)

    monkeypatch.setattr(runner._Player, "_emit", spy)
    run_scenario(scenario_from_dict(GROUP))
    assert seen == [False]


def test_a_small_batch_is_not_frozen(monkeypatch):
    """Below FREEZE_AFTER clients nothing is frozen: small runs keep the
    collector's usual behaviour."""
    monkeypatch.setattr(gc_policy, "FREEZE_AFTER", 51)
    import roomsim.runner as runner

    seen = []
    real = runner._Player._emit

    def spy(self, body):
        seen.append(gc.get_freeze_count())
        return real(self, body)

    monkeypatch.setattr(runner._Player, "_emit", spy)
    run_scenario(scenario_from_dict(GROUP))
    assert seen == [0]


def test_objects_someone_else_froze_are_left_alone():
    """With objects already frozen (before a fork, say), a run neither adds
    to them nor hands them back."""
    kept = [[i] for i in range(1000)]
    gc.freeze()
    cluster = run_scenario(scenario_from_dict(GROUP))
    assert _tracked(cluster)  # the run froze nothing of its own
    assert not _tracked(kept)  # and handed back nothing of the others'


def test_in_the_command_each_run_hands_back_the_previous_one(monkeypatch):
    """With for_process (the roomsim command), runs one after another: each
    keeps its own objects frozen, and the one before is collected once the
    next has begun."""
    monkeypatch.setattr(gc_policy, "_hand_back", False)
    first = run_scenario(scenario_from_dict(GROUP))
    assert not _tracked(first)  # kept frozen after its run
    gone = weakref.ref(first)
    del first
    second = run_scenario(scenario_from_dict(GROUP))
    gc.collect()
    assert gone() is None  # handed back when the second run began, then collected
    assert not _tracked(second)
