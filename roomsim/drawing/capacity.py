"""Pictures of capacity: loops over time, and latency against offered load."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from roomsim.drawing.output import new_axes, save_figure

__all__ = ["draw_backlog", "draw_knee", "draw_utilisation", "save_loops"]


def draw_utilisation(series: Mapping[str, Mapping[str, Sequence[float]]], ax: Any = None) -> Any:
    """Each loop's busy fraction per 10 ms of simulated time.

    Parameters
    ----------
    series : dict
        From :func:`~roomsim.loop.loop_series`.
    ax : matplotlib Axes, optional

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> ax = draw_utilisation({"n1": {"t": [0, 10], "utilisation": [0.5, 1.0],
    ...     "backlog_ms": [0, 3]}}, ax=Figure().subplots())
    >>> ax.get_ylabel(), [line.get_label() for line in ax.get_lines()]
    ('utilisation (busy fraction)', ['n1'])
    """
    ax = new_axes((8, 4.5), ax)
    for name, s in series.items():
        ax.step(s["t"], s["utilisation"], where="post", label=name)
    ax.set_ylim(0, 1.05)
    ax.set_xlabel("simulated time (ms)")
    ax.set_ylabel("utilisation (busy fraction)")
    ax.set_title("event loop utilisation over time")
    ax.legend(loc="best", fontsize="small")
    return ax


def draw_backlog(series: Mapping[str, Mapping[str, Sequence[float]]], ax: Any = None) -> Any:
    """Each loop's longest backlog (ms of work waiting) per 10 ms of simulated time.

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> ax = draw_backlog({"n1": {"t": [0, 10], "utilisation": [0.5, 1.0],
    ...     "backlog_ms": [0, 3]}}, ax=Figure().subplots())
    >>> ax.get_ylabel()
    'queue: work waiting (ms)'
    """
    ax = new_axes((8, 4.5), ax)
    for name, s in series.items():
        ax.step(s["t"], s["backlog_ms"], where="post", label=name)
    ax.set_xlabel("simulated time (ms)")
    ax.set_ylabel("queue: work waiting (ms)")
    ax.set_title("event loop queue over time")
    ax.legend(loc="best", fontsize="small")
    return ax


def draw_knee(
    points: Sequence[Mapping[str, float]],
    ax: Any = None,
    *,
    xlabel: str = "offered load (emits per second)",
    limit_ms: float | None = None,
) -> Any:
    """Latency percentiles against offered load: the knee where a loop saturates.

    Parameters
    ----------
    points : list of dict
        Each with ``value`` (the load) and ``p50``, ``p95``, ``p99`` (ms).
    limit_ms : float, optional
        Draw the objective as a horizontal line.

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> pts = [{"value": 10, "p50": 1, "p95": 2, "p99": 3},
    ...        {"value": 20, "p50": 9, "p95": 30, "p99": 80}]
    >>> ax = draw_knee(pts, ax=Figure().subplots(), limit_ms=50)
    >>> ax.get_xlabel(), ax.get_yscale()
    ('offered load (emits per second)', 'log')
    """
    ax = new_axes((8, 4.5), ax)
    pts = sorted(points, key=lambda p: p["value"])
    xs = [p["value"] for p in pts]
    for stat, style in (("p50", "o-"), ("p95", "s--"), ("p99", "^:")):
        ax.plot(xs, [max(p[stat], 1e-3) for p in pts], style, label=stat)
    if limit_ms is not None:
        ax.axhline(limit_ms, color="grey", linewidth=1, label=f"objective {limit_ms:g} ms")
    ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("delivery latency (ms)")
    ax.set_title("latency against offered load")
    ax.legend(loc="best", fontsize="small")
    return ax


def save_loops(series: Mapping[str, Mapping[str, Sequence[float]]], path: Any) -> Any:
    """Utilisation above, queue below, in one file; return its path.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "loops.png"
    >>> s = {"n1": {"t": [0, 10], "utilisation": [0.5, 1.0], "backlog_ms": [0, 3]}}
    >>> save_loops(s, out).name
    'loops.png'
    """
    from matplotlib.figure import Figure

    fig = Figure(figsize=(9, 7))
    top, bottom = fig.subplots(2, 1, sharex=True)
    draw_utilisation(series, ax=top)
    draw_backlog(series, ax=bottom)
    fig.tight_layout()
    return save_figure(fig, path)
