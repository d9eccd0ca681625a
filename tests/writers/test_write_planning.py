"""Planning without I/O: rows to manifests, SET values to merge patches, and patches back."""

from __future__ import annotations

import pytest

from chaosql.errors import WriteRefused
from chaosql.writers.objects import manifest, update_patch
from chaosql.writers.plan import merge_diff, reverse_patch
from chaosql.writers.snapshot import apply_merge_patch

OBJ = {
    "apiVersion": "chaos-mesh.org/v1alpha1",
    "kind": "Schedule",
    "metadata": {
        "name": "s",
        "namespace": "shop",
        "labels": {"a": "1", "b": "2"},
        "annotations": {"experiment.chaos-mesh.org/pause": "true", "note": "x"},
    },
    "spec": {
        "type": "PodChaos",
        "schedule": "@every 5m",
        "historyLimit": 1,
        "podChaos": {"action": "pod-kill", "mode": "one", "selector": {"namespaces": ["shop"]}},
    },
}


POD_KILL = {"action": "pod-kill", "mode": "one", "selector": {"namespaces": ["shop"]}}


def test_convenience_columns_merge_into_the_manifest():
    obj = manifest(
        "experiments",
        {
            "namespace": "shop",
            "name": "k",
            "kind": "PodChaos",
            "spec": '{"mode": "all"}',
            "action": "pod-kill",
            "mode": "one",
            "value": 2,
            "selector": [("namespaces", ["shop"])],
            "labels": [("team", "web")],
            "annotations": {"n": True},
            "paused": True,
            "source": "kube",
        },
        "row 1",
    )
    assert obj == {
        "apiVersion": "chaos-mesh.org/v1alpha1",
        "kind": "PodChaos",
        "metadata": {
            "name": "k",
            "namespace": "shop",
            "labels": {"team": "web"},
            "annotations": {"n": "true", "experiment.chaos-mesh.org/pause": "true"},
        },
        "spec": {"mode": "one", "action": "pod-kill", "value": "2", "selector": {"namespaces": ["shop"]}},
    }
    schedule = manifest(
        "schedules",
        {
            "namespace": "shop",
            "name": "s",
            "schedule": "@daily",
            "history_limit": 3,
            "concurrency_policy": "Forbid",
            "type": "PodChaos",
            "spec": {"podChaos": POD_KILL},
        },
        "row 1",
    )
    assert schedule["kind"] == "Schedule"
    assert schedule["spec"] == {
        "podChaos": POD_KILL,
        "type": "PodChaos",
        "schedule": "@daily",
        "concurrencyPolicy": "Forbid",
        "historyLimit": 3,
    }


@pytest.mark.parametrize(
    "row, message",
    [
        ({"name": "k", "kind": "PodChaos"}, "row 1: namespace is required"),
        ({"namespace": "n", "name": "k", "kind": "Schedule"}, "'Schedule' is not a Chaos Mesh experiment kind"),
        ({"namespace": "n", "name": "k", "kind": "PodChaos", "spec": "[1]"}, "spec must be a JSON object"),
        ({"namespace": "n", "name": "k", "kind": "PodChaos", "labels": "3"}, "labels: expected a MAP or a JSON object"),
        (
            {"namespace": "n", "name": "k", "kind": "PodChaos", "source": "prometheus"},
            "source 'prometheus' cannot be written",
        ),
    ],
)
def test_bad_rows_are_named(row, message):
    with pytest.raises(WriteRefused, match=message.replace("(", r"\(").replace(")", r"\)").replace("[", r"\[")):
        manifest("experiments", row, "row 1")


def test_set_values_become_the_smallest_merge_patch():
    patch, summary = update_patch(
        "schedules", OBJ, {"labels": {"a": "1", "c": "3"}, "paused": False, "schedule": "@every 5m", "history_limit": 4}
    )
    assert patch == {
        "spec": {"historyLimit": 4},
        "metadata": {"labels": {"c": "3", "b": None}, "annotations": {"experiment.chaos-mesh.org/pause": None}},
    }
    assert summary == 'merge-patch Schedule shop/s: labels {"c":"3","b":null}; resume; spec {"historyLimit":4}'
    assert update_patch("schedules", OBJ, {"paused": True})[0] == {}  # already paused: nothing to send
    back = reverse_patch(patch, OBJ)
    assert apply_merge_patch(apply_merge_patch(_copy(OBJ), patch), back) == OBJ


def test_experiment_specs_and_names_cannot_change():
    with pytest.raises(WriteRefused, match='Cannot update chaos spec"; SET duration\\); use DELETE, then INSERT'):
        update_patch("experiments", {**OBJ, "kind": "PodChaos"}, {"duration": "1m"})
    with pytest.raises(WriteRefused, match="name cannot change"):
        update_patch("schedules", OBJ, {"name": "t"})


def test_merge_diff_round_trips():
    old = {"a": 1, "b": {"c": [1, 2], "d": "x"}, "e": None}
    new = {"a": 2, "b": {"c": [1]}, "f": {"g": True}}
    assert apply_merge_patch(_copy(old), merge_diff(old, new)) == {"a": 2, "b": {"c": [1]}, "f": {"g": True}}


def _copy(value):
    import copy

    return copy.deepcopy(value)
