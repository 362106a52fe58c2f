"""The explorer: a plain model function, a static animation, and (with ipywidgets) a widget UI."""

from __future__ import annotations

import pytest

from roomsim.explorer import ADAPTER_CHOICES, draw_step, explore_static, simulate


@pytest.mark.parametrize(("adapter", "mode"), list(ADAPTER_CHOICES.values()))
def test_simulate_builds_the_cluster_asked_for(adapter: str, mode: str) -> None:
    """nodes, clients and rooms are as asked, on the adapter asked; every emit is counted."""
    run = simulate(adapter, nodes=4, clients=10, rooms=3, seed=2, subscription_mode=mode)
    assert run.nodes == ["n1", "n2", "n3", "n4"]
    assert run.clients == [f"user{i}" for i in range(1, 11)]
    assert run.cluster.adapter == adapter
    assert run.metrics["clients"] == 10
    assert run.metrics["emits"] == 6 + 1  # room emits, then one broadcast
    rooms = {rec["room"] for rec in run.trace.records("join")}
    assert rooms <= {"room1", "room2", "room3"}
    assert run.steps >= 1
    assert run.time_at(run.steps - 1) >= run.metrics["end_ms"]


def test_every_adapter_delivers_the_same_messages_to_the_same_clients() -> None:
    """After the subscriptions are in place, the adapter changes costs, not recipients."""
    runs = [
        simulate(a, nodes=5, clients=20, rooms=4, subscription_mode=m)
        for a, m in ADAPTER_CHOICES.values()
    ]
    delivered = [run.trace.deliveries() for run in runs]
    assert delivered[0] == delivered[1] == delivered[2]
    classic, dynamic, static = (run.metrics["received"] for run in runs)
    assert classic == static >= dynamic


def test_simulate_refuses_bad_sizes_and_options() -> None:
    """Sizes below 1, and a subscription mode without the sharded adapter, are refused."""
    with pytest.raises(ValueError, match="nodes"):
        simulate(nodes=0)
    with pytest.raises(ValueError, match="subscription_mode"):
        simulate("redis", subscription_mode="static")


def test_draw_step_draws_three_panels_at_any_step() -> None:
    """The picture has the membership, the outcomes so far and the load per node."""
    run = simulate("redis", nodes=2, clients=4, rooms=2)
    for step in (0, run.steps - 1):
        fig = draw_step(run, step)
        assert len(fig.axes) == 3
    with pytest.raises(IndexError):
        run.time_at(run.steps)


def test_explore_static_returns_an_html_animation() -> None:
    """A self-contained JavaScript animation with a caption naming the adapter."""
    page = explore_static("sharded-redis", nodes=3, clients=6, rooms=2, max_frames=4)
    assert page.startswith("<p><b>sharded-redis, dynamic: 3 nodes, 6 clients")
    assert "<script" in page
    assert "Animation" in page
    assert page.count("data:image/png;base64") >= 2  # one picture per frame


@pytest.mark.slow
def test_explore_builds_a_widget_that_follows_its_controls() -> None:
    """With ipywidgets: a VBox; moving a slider runs the model again and redraws."""
    widgets = pytest.importorskip("ipywidgets")
    from roomsim.explorer import Explorer, explore

    ui = explore(nodes=3, clients=6, rooms=2)
    assert isinstance(ui, widgets.VBox)

    explorer = Explorer(nodes=3, clients=6, rooms=2)
    c = explorer.controls
    assert isinstance(c["play"], widgets.Play)
    assert c["step"].max == explorer.run.steps - 1 == c["play"].max
    first = explorer.picture.value
    assert first[:8] == b"\x89PNG\r\n\x1a\n"
    c["nodes"].value = 4
    assert explorer.run.nodes == ["n1", "n2", "n3", "n4"]
    c["adapter"].value = ("sharded-redis", "static")
    assert explorer.run.label == "sharded-redis, static"
    c["step"].value = 0
    assert explorer.picture.value != first


def test_explore_without_ipywidgets_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    """A clear ImportError with the install command."""
    import builtins

    real_import = builtins.__import__

    def no_ipywidgets(name: str, *args: object, **kwargs: object) -> object:
        if name == "ipywidgets":
            raise ImportError("No module named 'ipywidgets'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_ipywidgets)
    from roomsim.explorer import explore

    with pytest.raises(ImportError, match=r'pip install -e "\.\[notebooks\]"'):
        explore()
