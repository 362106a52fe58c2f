"""The real Socket.IO beside the model: ``roomsim real`` and ``roomsim diff``.

:func:`run_real` plays a scenario file on real Socket.IO servers (Node.js,
one process per node), a real ``redis-server`` and real socket.io-client
clients, and returns a trace in roomsim's own format;
:func:`diff_traces` compares two traces of one scenario (who got what,
acknowledgements, fetches, server-side emits, disconnections).  Only
``run_real`` needs Node.js and Redis (see :func:`missing`).
"""

from roomsim.real.diff import diff_traces, format_diff
from roomsim.real.procs import RealError
from roomsim.real.runner import RealResult, Unplayable, run_real
from roomsim.real.tools import install, missing

__all__ = [
    "RealError",
    "RealResult",
    "Unplayable",
    "diff_traces",
    "format_diff",
    "install",
    "missing",
    "run_real",
]
