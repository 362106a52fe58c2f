"""Plots of a run's numbers: latency CDF per kind of emit, broker traffic, load per node."""

from __future__ import annotations

from typing import Any

from roomsim.analysis.delivery import EMIT_KINDS
from roomsim.analysis.records import round_ms
from roomsim.analysis.traffic import LOAD_KEYS, BrokerTraffic
from roomsim.drawing.colours import EMIT_KIND_COLOURS, FATE_COLOURS
from roomsim.drawing.output import new_axes

__all__ = ["draw_broker_traffic", "draw_latency_cdf", "draw_node_load"]


def _headroom(ax: Any, highest: float) -> None:
    """Integer ticks, and room above the bars for a one-line legend."""
    from matplotlib.ticker import MaxNLocator

    ax.set_ylim(0, highest * 1.22)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))


def draw_latency_cdf(data: dict[str, tuple[list[float], list[float]]], ax: Any = None) -> Any:
    """Draw the delivery latency CDF of each kind of emit as a step line.

    Parameters
    ----------
    data : dict
        From :func:`~roomsim.analysis.latency_cdf`: kind -> (latencies_ms, fractions).
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> ax = draw_latency_cdf({"room": ([5, 7], [0.5, 1.0])}, ax=Figure().subplots())
    >>> [t.get_text() for t in ax.get_legend().get_texts()]
    ['room (2 deliveries)']
    """
    ax = new_axes((7, 4.5), ax)
    kinds = [k for k in EMIT_KINDS if k in data] + [k for k in data if k not in EMIT_KINDS]
    drawn = 0
    styles = ("solid", (0, (5, 3)), (0, (1, 2)))  # lines that coincide stay visible
    for kind in kinds:
        xs, ys = data[kind]
        if not xs:
            continue
        ax.step(
            [xs[0], *xs],
            [0.0, *ys],
            where="post",
            lw=2,
            linestyle=styles[drawn % len(styles)],
            color=EMIT_KIND_COLOURS.get(kind),
            label=f"{kind} ({len(xs):,} deliver{'ies' if len(xs) != 1 else 'y'})",
        )
        drawn += 1
    if drawn:
        ax.legend(frameon=False)
    else:
        ax.text(0.5, 0.5, "no deliveries", ha="center", va="center", transform=ax.transAxes)
    ax.set_ylim(0, 1.04)
    ax.set_xlabel("delivery latency, emit to deliver (ms)")
    ax.set_ylabel("cumulative fraction of deliveries")
    ax.set_title("delivery latency by kind of emit")
    ax.grid(alpha=0.3)
    return ax


def draw_broker_traffic(data: BrokerTraffic, ax: Any = None) -> Any:
    """Draw broker messages per time bin: published, relayed, and the relayed copies thrown away.

    Parameters
    ----------
    data : BrokerTraffic
        From :func:`~roomsim.analysis.broker_traffic`.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> from roomsim.analysis import BrokerTraffic
    >>> ax = draw_broker_traffic(BrokerTraffic(10, [0, 10], [1, 0], [3, 0], [1, 0]),
    ...                          ax=Figure().subplots())
    >>> ax.get_title()
    'broker messages per 10 ms'
    """
    ax = new_axes((8, 4.5), ax)
    width = data.bin_ms * 0.42
    left = [s + data.bin_ms * 0.08 for s in data.starts_ms]
    right = [s + data.bin_ms * 0.5 for s in data.starts_ms]
    ax.bar(
        left,
        data.published,
        width,
        align="edge",
        color=FATE_COLOURS["published"],
        label="published (node to broker)",
    )
    ax.bar(
        right,
        data.relayed,
        width,
        align="edge",
        color=FATE_COLOURS["relayed"],
        label="relayed (broker to node)",
    )
    ax.bar(
        right,
        data.discarded,
        width,
        align="edge",
        color=FATE_COLOURS["discarded"],
        hatch="//",
        edgecolor="white",
        label="relayed, thrown away",
    )
    if data.starts_ms:
        ax.set_xlim(data.starts_ms[0], data.starts_ms[-1] + data.bin_ms)
    _headroom(ax, max([*data.published, *data.relayed, 1]))
    ax.set_xlabel("t (ms)")
    ax.set_ylabel(f"broker messages per {round_ms(data.bin_ms)} ms")
    ax.set_title(f"broker messages per {round_ms(data.bin_ms)} ms")
    ax.legend(frameon=False, loc="upper center", ncols=3, fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    return ax


def draw_node_load(data: dict[str, dict[str, int]], ax: Any = None) -> Any:
    """Draw each node's deliveries, relayed copies received, and copies discarded.

    Parameters
    ----------
    data : dict
        From :func:`~roomsim.analysis.node_load`: node -> counts.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> ax = draw_node_load({"n1": {"deliveries": 3, "relays": 2, "discarded": 1}},
    ...                     ax=Figure().subplots())
    >>> [t.get_text() for t in ax.get_xticklabels()]
    ['n1']
    """
    ax = new_axes((max(5, 1.2 * len(data) + 3), 4.5), ax)
    nodes = list(data)
    colours = {
        "deliveries": FATE_COLOURS["delivered"],
        "relays": FATE_COLOURS["relayed"],
        "discarded": FATE_COLOURS["discarded"],
    }
    labels = {
        "deliveries": "deliveries",
        "relays": "broker copies received",
        "discarded": "copies discarded",
    }
    width = 0.8 / len(LOAD_KEYS)
    for i, key in enumerate(LOAD_KEYS):
        xs = [j - 0.4 + (i + 0.5) * width for j in range(len(nodes))]
        bars = ax.bar(
            xs, [data[n].get(key, 0) for n in nodes], width, color=colours[key], label=labels[key]
        )
        if len(nodes) <= 12:
            ax.bar_label(bars, fontsize=7, padding=1)
    ax.set_xticks(range(len(nodes)), nodes)
    _headroom(ax, max([v for counts in data.values() for v in counts.values()] + [1]))
    ax.set_xlabel("node")
    ax.set_ylabel("messages (deliveries, broker copies)")
    ax.set_title("load per node")
    ax.legend(frameon=False, loc="upper center", ncols=3, fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    return ax
