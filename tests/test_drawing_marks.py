"""What the pictures say: the timeline's failure labels and its zoom, and the
axis labels of every picture with axes."""

from __future__ import annotations

from pathlib import Path

import pytest
from matplotlib.figure import Figure

from roomsim import analysis, drawing
from roomsim.runner import run_scenario
from roomsim.scenario import load_scenario, parse_scenario

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


@pytest.fixture(scope="module")
def failures() -> list[dict]:
    return list(run_scenario(load_scenario(EXAMPLES / "failures.yaml")).trace)


def _texts(ax) -> list[str]:
    return [t.get_text() for t in ax.texts]


def test_timeline_labels_every_failure_and_return(failures: list[dict]) -> None:
    """examples/failures.yaml: n2 crashes at 21 ms and restarts at 2000 ms, the
    broker is down from 40 to 60 ms, n3 is cut from the broker from 70 to 80 ms,
    and n2's client ben comes back (a reconnect to another node): each is a
    labelled mark on its lane, at its time."""
    data = analysis.spacetime(failures)
    found = {(m.lane, m.t_ms, m.label) for m in data.marks}
    assert {
        (("node", "n2"), 21, "crash"),
        (("node", "n2"), 2000, "restart"),
        (("broker", "broker"), 40, "broker down"),
        (("broker", "broker"), 60, "broker up"),
        (("node", "n3"), 70, "partition (from-broker)"),
        (("node", "n3"), 80, "heal"),
    } <= found
    reconnects = [m for m in data.marks if m.kind == "reconnect"]
    assert [m.lane for m in reconnects] == [("client", "ben")]
    assert reconnects[0].label.startswith("reconnect n") and reconnects[0].t_ms > 1000
    ax = drawing.draw_spacetime(data, ax=Figure(figsize=(12, 5)).subplots(), zoom=False)
    texts = " | ".join(_texts(ax))
    for label in ("crash", "restart", "broker down", "broker up", "partition", "heal"):
        assert label in texts, label
    assert "reconnect n" in texts


def test_a_first_connect_is_not_a_reconnect() -> None:
    """A client's first connect is 'connect'; only a later one is 'reconnect'."""
    sc = parse_scenario(
        "cluster: {nodes: 1}\nclients: [{name: a, node: n1}]\n"
        "timeline: [{at: 5, disconnect: {client: a}}, {at: 9, connect: {client: a}}]\n"
    )
    data = analysis.spacetime(run_scenario(sc).trace)
    assert [(m.kind, m.t_ms) for m in data.marks if m.kind in ("connect", "reconnect")] == [
        ("connect", 0),
        ("reconnect", 9),
    ]


BURST_THEN_ONE = (
    """\
cluster: {nodes: 1}
latency: {client_ms: 2}
clients: [{name: a, node: n1}, {name: b, node: n1}]
timeline:
"""
    + "".join(f"  - {{at: {t}, emit: {{from: n1, event: tick}}}}\n" for t in range(10, 60, 5))
    + ("  - {at: 10000, emit: {from: n1, event: late}}\n")
)


def test_timeline_zooms_on_the_busy_part_by_default() -> None:
    """Ten emits between 10 and 55 ms and one at 10 s: the picture shows the
    burst (the title says it is the busy part); zoom=False, or draw --from/--to,
    shows the window asked for."""
    data = analysis.spacetime(run_scenario(parse_scenario(BURST_THEN_ONE)).trace)
    assert (data.start_ms, data.end_ms) == (0, 10002)
    ax = drawing.draw_spacetime(data, ax=Figure().subplots())
    lo, hi = ax.get_xlim()
    assert lo < 20 and 45 < hi < 100
    assert "busy part of 0 to 10002 ms" in ax.get_title()
    whole = drawing.draw_spacetime(data, ax=Figure().subplots(), zoom=False)
    assert whole.get_xlim()[1] > 10002 and "busy" not in whole.get_title()


def test_draw_timeline_with_a_window_is_not_zoomed(tmp_path: Path, monkeypatch) -> None:
    """``roomsim draw --kind timeline`` zooms only when no --from/--to is given."""
    from click.testing import CliRunner

    from roomsim.cli import main

    seen: list[bool] = []
    real = drawing.draw_spacetime

    def spy(data, ax=None, *, zoom=True):
        seen.append(zoom)
        return real(data, ax=ax, zoom=zoom)

    monkeypatch.setattr(drawing, "draw_spacetime", spy)
    scenario = tmp_path / "s.yaml"
    scenario.write_text(BURST_THEN_ONE)
    out = str(tmp_path / "t.png")
    for extra in ([], ["--from", "0", "--to", "10002"]):
        result = CliRunner().invoke(
            main, ["draw", str(scenario), "--kind", "timeline", "--out", out, *extra]
        )
        assert result.exit_code == 0, result.output
    assert seen == [True, False]


def test_every_picture_with_axes_says_what_they_show(failures: list[dict]) -> None:
    """Time axes read 't (ms)', the latency CDF's 'cumulative fraction'; no axis
    of a chart is left unnamed."""
    axes = {
        "timeline": drawing.draw_spacetime(analysis.spacetime(failures), ax=Figure().subplots()),
        "latency": drawing.draw_latency_cdf(analysis.latency_cdf(failures), ax=Figure().subplots()),
        "broker": drawing.draw_broker_traffic(
            analysis.broker_traffic(failures), ax=Figure().subplots()
        ),
        "load": drawing.draw_node_load(analysis.node_load(failures), ax=Figure().subplots()),
        "outcomes": drawing.draw_outcomes(failures, ax=Figure().subplots()),
    }
    for name, ax in axes.items():
        assert ax.get_xlabel().strip() and ax.get_ylabel().strip(), name
    assert axes["timeline"].get_xlabel() == "t (ms)"
    assert axes["broker"].get_xlabel() == "t (ms)"
    assert "cumulative fraction" in axes["latency"].get_ylabel()
    assert axes["latency"].get_xlabel().endswith("(ms)")


def test_connect_and_disconnect_have_their_own_glyphs() -> None:
    """On the timeline, a connect and a disconnect are told apart by shape, not
    only by colour: each is drawn at its client's lane and time with its own
    glyph, and the legend names both."""
    import numpy as np

    sc = parse_scenario(
        "cluster: {nodes: 1}\nclients: [{name: a, node: n1}, {name: b, node: n1, connect_at: 2}]\n"
        "timeline: [{at: 5, disconnect: {client: a}}]\n"
    )
    data = analysis.spacetime(run_scenario(sc).trace)
    ax = drawing.draw_spacetime(data, ax=Figure().subplots(), zoom=False)
    drawn = {c.get_gid(): c for c in ax.collections if (c.get_gid() or "").startswith("mark:")}
    lanes = [t.get_text() for t in ax.get_yticklabels()]

    def at(kind: str) -> set[tuple[float, str]]:
        offsets = drawn[f"mark:{kind}"].get_offsets()
        return {(float(x), lanes[-round(float(y))]) for x, y in offsets}

    assert at("connect") == {(0.0, "a"), (2.0, "b")}
    assert at("disconnect") == {(5.0, "a")}
    connect, disconnect = (
        drawn[f"mark:{k}"].get_paths()[0].vertices for k in ("connect", "disconnect")
    )
    assert not (connect.shape == disconnect.shape and np.allclose(connect, disconnect))
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "connect" in legend and "disconnect" in legend
