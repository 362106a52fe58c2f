"""Drawing a space-time diagram (:func:`~roomsim.analysis.spacetime`): lanes, arrows, marks.

Every hop of the window is drawn, however many (arrows go to matplotlib in
one batch per style); only the text labels are thinned when they would
crowd.
"""

from __future__ import annotations

import math
from typing import Any

from roomsim.analysis.records import round_ms
from roomsim.analysis.spacetime import Hop, Mark, SpaceTime
from roomsim.drawing.colours import FATE_COLOURS, message_colours
from roomsim.drawing.output import new_axes

__all__ = ["draw_spacetime", "spacetime_figsize"]

#: Tick labels shown at most, and mark labels per lane at most.
_MOST_TICKS = 60
_MARK_STYLE = {
    "connect": ("|", "#2e8b57"),
    "disconnect": ("|", "#c0392b"),
    "join": ("^", "#555555"),
    "leave": ("v", "#555555"),
    "emit": ("*", None),
}
_FAINT = ("ignored", "discarded")


def spacetime_figsize(data: SpaceTime) -> tuple[float, float]:
    """A figure size with room for every lane (up to 40 inches high).

    Examples
    --------
    >>> from roomsim.analysis import SpaceTime
    >>> spacetime_figsize(SpaceTime())
    (12.0, 3.5)
    """
    return (12.0, min(40.0, max(3.5, 0.38 * len(data.lanes) + 1.8)))


def draw_spacetime(data: SpaceTime, ax: Any = None) -> Any:
    """Draw lanes top to bottom, time left to right, and every hop as an arrow.

    Arrows are coloured by message (a legend names up to 12); copies a node
    threw away are faint; a drop ends in a red cross.  Marks: connect (green
    bar), disconnect (red bar), join (up triangle), leave (down triangle),
    emit (star).  Labels that would overlap another on their lane are left out.

    Parameters
    ----------
    data : SpaceTime
        From :func:`~roomsim.analysis.spacetime`.
    ax : matplotlib Axes, optional
        Where to draw (default: a new pyplot figure).

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> from roomsim.analysis import spacetime
    >>> from roomsim.trace import Trace
    >>> trace = Trace()
    >>> trace.record(0, "connect", client="alice", node="n1", sid="s1")
    >>> trace.record(2, "emit", msg="m1", node="n1", event="e", to=[], **{"except": []})
    >>> trace.add_deliveries(7, "m1", "n1", "e", ["alice"])
    >>> ax = draw_spacetime(spacetime(trace, start=0, end=10), ax=Figure().subplots())
    >>> [float(x) for x in ax.get_xlim()]
    [-0.2, 10.2]
    """
    from matplotlib.collections import LineCollection
    from matplotlib.lines import Line2D

    ax = new_axes(spacetime_figsize(data), ax)
    lanes = data.lanes
    y = {lane.key: -float(i) for i, lane in enumerate(lanes)}
    start, end = data.start_ms, data.end_ms
    pad = (end - start) * 0.02 or 1.0
    colour = dict(zip(data.messages, message_colours(len(data.messages)), strict=True))

    ax.add_collection(
        LineCollection(
            [[(start - pad, y[lane.key]), (end + pad, y[lane.key])] for lane in lanes],
            colors=["#999999" if lane.kind == "client" else "#333333" for lane in lanes],
            linewidths=[0.6 if lane.kind == "client" else 1.4 for lane in lanes],
            linestyles=["dashed" if lane.kind == "broker" else "solid" for lane in lanes],
            zorder=0,
        )
    )
    step = max(1, math.ceil(len(lanes) / _MOST_TICKS))
    shown = lanes[::step]
    ax.set_yticks([y[lane.key] for lane in shown], [lane.name for lane in shown])
    for tick, lane in zip(ax.get_yticklabels(), shown, strict=True):
        if lane.kind != "client":
            tick.set_fontweight("bold")

    hops = [h for h in data.hops if h.src in y and h.dst in y]
    for faint in (False, True):
        _arrows(ax, [h for h in hops if (h.fate in _FAINT) == faint], y, colour, faint)
    drops = [h for h in hops if h.fate == "dropped"]
    if drops:
        ax.scatter(
            [h.t1_ms for h in drops],
            [y[h.dst] for h in drops],
            marker="x",
            s=45,
            color=FATE_COLOURS["dropped"],
            zorder=4,
        )

    marks = [m for m in data.marks if m.lane in y]
    for kind, (marker, fixed) in _MARK_STYLE.items():
        chosen = [m for m in marks if m.kind == kind]
        if chosen:
            ax.scatter(
                [m.t_ms for m in chosen],
                [y[m.lane] for m in chosen],
                marker=marker,
                s=90 if kind == "emit" else 80,
                color=[fixed or colour.get(m.msg or "", "#333333") for m in chosen],
                edgecolors="#222222" if kind == "emit" else None,
                linewidths=2.0 if marker == "|" else 0.5,
                zorder=5,
            )
    _labels(ax, marks, y, start, end, small=len(lanes) > 30)

    ax.set_xlim(start - pad, end + pad)
    ax.set_ylim(-len(lanes) + 0.4, 0.6)
    ax.set_xlabel("time (ms)")
    ax.set_title(
        f"{len(hops)} hops of {len(data.messages)} message{'s' * (len(data.messages) != 1)},"
        f" t={round_ms(start)} to {round_ms(end)} ms"
    )
    handles = [Line2D([], [], color=colour[msg], lw=2, label=msg) for msg in data.messages[:12]]
    if len(data.messages) > 12:
        handles.append(Line2D([], [], color="none", label=f"... {len(data.messages) - 12} more"))
    handles += [
        Line2D([], [], color="#888888", lw=2, alpha=0.35, label="copy thrown away"),
        Line2D([], [], color=FATE_COLOURS["dropped"], marker="x", ls="", label="dropped"),
    ]
    ax.legend(
        handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, fontsize=8
    )
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return ax


def _labels(
    ax: Any, marks: list[Mark], y: dict[Any, float], start: float, end: float, small: bool
) -> None:
    """Label marks: one label per lane and instant, none overlapping another on its lane,
    and client lanes skipped in turn when lanes are closer than a line of text."""
    size = 6 if small else 7
    box = ax.get_window_extent()
    line_px = size * 1.4 * ax.figure.dpi / 72
    every = max(1, math.ceil(line_px / ((box.height or 1.0) / max(1, len(y)))))
    merged: dict[tuple[Any, float], list[str]] = {}
    for m in marks:
        if m.lane[0] == "client" and round(-y[m.lane]) % every:
            continue
        merged.setdefault((m.lane, m.t_ms), []).append(m.label)
    width_px = box.width or 1.0
    per_char = (end - start or 1.0) * size * 0.62 * ax.figure.dpi / 72 / width_px
    taken: dict[Any, float] = {}
    near_end = end - (end - start) * 0.1
    for (lane, t), texts in sorted(merged.items(), key=lambda item: item[0][1]):
        text = " ".join(dict.fromkeys(texts))
        wide = (len(text) + 1) * per_char
        right = t > near_end
        lo, hi = (t - wide, t) if right else (t, t + wide)
        if lo < taken.get(lane, -math.inf):
            continue
        taken[lane] = hi
        ax.annotate(
            text,
            (t, y[lane]),
            xytext=(-3 if right else 3, 4),
            textcoords="offset points",
            ha="right" if right else "left",
            fontsize=size,
            color="#222222",
            annotation_clip=True,
        )


def _arrows(
    ax: Any, hops: list[Hop], y: dict[Any, float], colour: dict[str, str], faint: bool
) -> None:
    if not hops:
        return
    ax.quiver(
        [h.t0_ms for h in hops],
        [y[h.src] for h in hops],
        [h.t1_ms - h.t0_ms for h in hops],
        [y[h.dst] - y[h.src] for h in hops],
        color=[colour.get(h.msg, "#333333") for h in hops],
        angles="xy",
        scale_units="xy",
        scale=1,
        width=0.0018,
        headwidth=5,
        headlength=6,
        headaxislength=5,
        alpha=0.3 if faint else 0.9,
        zorder=3,
    )
