"""roomsim: Socket.IO rooms, broadcasts and multi-node adapters, simulated on SimPy.

>>> import roomsim
>>> sim = roomsim.Cluster(nodes=["n1", "n2"], adapter="redis", client_ms=5, adapter_ms=2)
>>> alice = sim.connect("alice", node="n1", rooms=["room1"])
>>> bob = sim.connect("bob", node="n2", rooms=["room1"])
>>> msg = sim.io("n2").to("room1").emit("news")
>>> sim.run()
>>> sorted(sim.trace.deliveries())
[('m1', 'alice'), ('m1', 'bob')]
"""

from typing import Any

from roomsim.analysis import delivery_graph, why_not
from roomsim.analysis.check import check
from roomsim.broadcast import BroadcastOperator
from roomsim.client import Client
from roomsim.cluster import Cluster
from roomsim.namespace import Namespace
from roomsim.packet import RESERVED_EVENTS
from roomsim.server import Server
from roomsim.socket import Socket
from roomsim.trace import Trace

__version__ = "0.1.0"

__all__ = [
    "RESERVED_EVENTS",
    "BroadcastOperator",
    "Client",
    "Cluster",
    "Namespace",
    "Server",
    "Socket",
    "Trace",
    "__version__",
    "check",
    "delivery_graph",
    "draw_delivery_graph",
    "read_trace",
    "why_not",
]


def __getattr__(name: str) -> Any:
    """``roomsim.draw_delivery_graph`` and friends (with matplotlib) and
    ``roomsim.read_trace`` (with pandas), imported on first use."""
    if name == "read_trace":  # pandas, imported on first use
        from roomsim.analysis.dataframe import read_trace

        return read_trace
    if name.startswith("draw_"):
        from roomsim import drawing

        return getattr(drawing, name)
    raise AttributeError(f"module 'roomsim' has no attribute {name!r}")
