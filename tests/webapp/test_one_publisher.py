"""One module talks to the channel layer: webapp.jobs.publisher. Anything else that sends to a group
(or fetches the layer to do so) would bypass its typed messages and the group names built there.
Consumers still join and leave groups through their own ``self.channel_layer`` (group_add/discard)."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

WEBAPP = Path(__file__).resolve().parents[2] / "webapp"
PUBLISHER = WEBAPP / "jobs" / "publisher.py"
FORBIDDEN = {"get_channel_layer", "group_send", "send_group"}


def names_used(tree: ast.AST) -> set[str]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id in FORBIDDEN:
            found.add(node.id)
        elif isinstance(node, ast.Attribute) and node.attr in FORBIDDEN:
            found.add(node.attr)
        elif isinstance(node, ast.alias) and node.name.rsplit(".", 1)[-1] in FORBIDDEN:
            found.add(node.name)
    return found


def test_only_the_publisher_talks_to_the_channel_layer():
    offenders = {}
    for path in sorted(WEBAPP.rglob("*.py")):
        if path == PUBLISHER:
            continue
        used = names_used(ast.parse(path.read_text(), filename=str(path)))
        if used:
            offenders[str(path.relative_to(WEBAPP.parent))] = sorted(used)
    assert offenders == {}, f"send through webapp.jobs.publisher instead: {offenders}"
    assert names_used(ast.parse(PUBLISHER.read_text())) >= {"get_channel_layer", "group_send"}  # the check sees a real use


@pytest.mark.parametrize("source", ["from channels.layers import get_channel_layer",
                                    "async_to_sync(layer.group_send)('g', {})",
                                    "import channels.layers.get_channel_layer"])
def test_the_check_sees_each_way_of_reaching_the_layer(source):
    assert names_used(ast.parse(source))


def test_every_message_has_a_kind_a_group_and_a_body():
    import dataclasses

    from webapp.jobs import publisher

    messages = [v for v in vars(publisher).values() if dataclasses.is_dataclass(v) and isinstance(v, type)]
    assert {m.kind for m in messages} == {"experiment.event", "experiment.weights", "evaluation.state", "evaluation.weights",
                                          "job.state", "team.activity", "membership.changed"}
    state = publisher.JobState("ensemble", 4, {"status": "queued"})
    assert (state.group, state.body()) == ("job.ensemble.4", {"state": {"status": "queued"}})
    sample = publisher.ExperimentWeights(3, 7, 2, [0.5])
    assert (sample.group, sample.body()) == ("experiment.3", {"candidate": 7, "step": 2, "weights": [0.5]})
