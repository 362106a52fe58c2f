"""Numbers and graphs computed from a trace (no matplotlib here).

Every function takes a :class:`~roomsim.trace.Trace` (or any iterable of
records, such as one read back with :meth:`~roomsim.trace.Trace.read_jsonl`),
so every picture can be recomputed from a saved trace file alone.
"""

from roomsim.analysis.delivery import EMIT_KINDS, emit_kind
from roomsim.analysis.frames import Frames, delivery_frames
from roomsim.analysis.graph import FATES, delivery_graph
from roomsim.analysis.history import History, SocketLife
from roomsim.analysis.latency import delivery_latencies, latency_cdf
from roomsim.analysis.membership import membership_graph
from roomsim.analysis.metrics import run_metrics
from roomsim.analysis.outcomes import OUTCOMES, outcome_table
from roomsim.analysis.records import NotInTrace
from roomsim.analysis.spacetime import Hop, Lane, Mark, SpaceTime, spacetime
from roomsim.analysis.traffic import LOAD_KEYS, BrokerTraffic, broker_traffic, node_load
from roomsim.analysis.why import REASONS, Explanation, explain, why_not

__all__ = [
    "EMIT_KINDS",
    "FATES",
    "LOAD_KEYS",
    "OUTCOMES",
    "REASONS",
    "BrokerTraffic",
    "Explanation",
    "Frames",
    "History",
    "Hop",
    "Lane",
    "Mark",
    "NotInTrace",
    "SocketLife",
    "SpaceTime",
    "broker_traffic",
    "delivery_frames",
    "delivery_graph",
    "delivery_latencies",
    "emit_kind",
    "explain",
    "latency_cdf",
    "membership_graph",
    "node_load",
    "outcome_table",
    "run_metrics",
    "spacetime",
    "why_not",
]
