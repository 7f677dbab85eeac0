"""The fleet view's judgement from node rows: offline after three missed heartbeats, and
which holder is behind (the update check's known latest first, else the commit adopted
last), pending parts of an action."""

from __future__ import annotations

from modelward.fleet.records import ActionResult, FleetAction, ModelOnNode, NodeRecord
from modelward.fleet.view import summarise, with_pending

OLD, NEW, NEWER = "a" * 40, "b" * 40, "c" * 40
NOW = 1_000_000.0


def _node(
    name: str, *models: ModelOnNode, last_seen: float = NOW, started: float = 0.0
) -> NodeRecord:
    return NodeRecord(name, f"http://{name}:8321", "1.0", models, 10**11, started, last_seen)


def _held(commit: str, since: float, latest: str | None = None) -> ModelOnNode:
    return ModelOnNode("m", "available", commit, latest, since, 100.0, True)


def test_the_commit_adopted_last_is_the_newest_and_older_holders_are_behind() -> None:
    records = [
        _node("a", _held(OLD, since=10)),
        _node("b", _held(NEW, since=50)),
        _node("c", _held(OLD, since=60)),  # a late pull of the old commit: still behind
        _node("d", ModelOnNode("m", "downloading", None, progress=41.0)),
    ]
    view = summarise(records, now=NOW, heartbeat_s=10, this_node="a", shared=True)
    [model] = view.models
    assert model.newest_commit == NEW
    assert model.behind == ["a", "c"] and model.holders == ["a", "b", "c"]
    [pulling] = [c for c in model.cells if c.node == "d"]
    assert (pulling.state, pulling.progress, pulling.behind) == ("downloading", 41.0, False)


def test_an_update_check_s_latest_wins_over_what_nodes_hold() -> None:
    records = [_node("a", _held(NEW, 50, latest=NEWER)), _node("b", _held(NEW, 60))]
    [model] = summarise(records, now=NOW, heartbeat_s=10, this_node="a", shared=True).models
    assert model.newest_commit == NEWER and model.behind == ["a", "b"]


def test_offline_after_three_missed_beats_and_unhealthy_marked() -> None:
    damaged = ModelOnNode("m", "corrupted", NEW, None, 5, 100.0, False, 0.5)
    records = [_node("a", _held(NEW, 5)), _node("b", damaged, last_seen=NOW - 31)]
    view = summarise(records, now=NOW, heartbeat_s=10, this_node="a", shared=False)
    assert [(n.record.name, n.online) for n in view.nodes] == [("a", True), ("b", False)]
    [model] = view.models
    assert model.unhealthy == ["b"] and model.offline == ["b"] and model.behind == []
    assert (
        not summarise(records, now=NOW - 2, heartbeat_s=10, this_node="a", shared=False)
        .models[0]
        .offline
    )


def test_pending_parts_are_the_addressed_nodes_that_have_not_claimed_theirs() -> None:
    records = [_node("a"), _node("b"), _node("late", started=NOW), _node("gone", last_seen=0)]
    view = summarise(records, now=NOW, heartbeat_s=10, this_node="a", shared=True)
    asked = FleetAction(
        "x", "pull", "m", None, "ana", "a", NOW - 5, (ActionResult("b", "running"),)
    )
    assert [(r.node, r.state) for r in with_pending(asked, view).results] == [
        ("a", "pending"),
        ("b", "running"),
    ]
    named = FleetAction("y", "verify", "m", ("gone",), "ana", "a", NOW - 5)
    assert [(r.node, r.state) for r in with_pending(named, view).results] == [("gone", "pending")]
