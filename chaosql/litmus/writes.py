"""Writes of LitmusChaos rows of ``experiments``: INSERT creates a ChaosEngine, ``SET paused``
stops (aborts) or restarts it, DELETE deletes it.

The statement goes the way every write does (``chaosql.writers``): the object is checked offline
against the ChaosEngine CRD (the cluster's own, else the one chaosql ships), every call is dry-run
first, then applied all or nothing. What is particular to LitmusChaos is here:

* an INSERT row is one ChaosEngine: ``action`` names its experiment (or ``spec`` holds the whole
  spec, ``spec.experiments`` included), ``selector`` its application (``{appns, applabel,
  appkind}``, or ``{appinfo, selectors}``), ``duration`` each experiment's TOTAL_CHAOS_DURATION,
  ``paused = true`` creates it stopped; ``mode`` and ``value`` are Chaos Mesh's and refused;
* ``SET paused = true`` sets ``spec.engineState`` to ``stop``: the operator aborts the run (chaos
  pods deleted, verdict Stopped); ``false`` sets it back to ``active``, which starts the run again;
* ``SET duration``, ``action``, ``spec`` (any spec column) are refused: the operator reads them
  when the run starts (``spec_rule``); DELETE and INSERT again;
* a ChaosEngine is several rows when it runs several experiments: an UPDATE or DELETE acts on the
  whole engine, so its WHERE must select every one of them, or it is refused.
"""

from __future__ import annotations

from typing import Any

from chaosql.errors import WriteRefused
from chaosql.litmus import facts
from chaosql.sources.chaosmesh import go_duration
from chaosql.writers.objects import json_value, mapping

#: experiments columns that only Chaos Mesh's objects have.
CHAOS_MESH_ONLY = {"mode": "spec.mode", "value": "spec.value"}
APPINFO_KEYS = frozenset({"appns", "applabel", "appkind"})
NOTHING = "checked before any call, nothing was written"
#: spec fields -> the column that writes them
COLUMNS = {"appinfo": "selector", "selectors": "selector", "engineState": "paused", "experiments": "action"}


class LitmusWrites:
    """ChaosEngines through ``experiments`` (``chaosql.writers.objects.KindWrites``)."""

    table = "experiments"
    kinds = frozenset({facts.CHAOS_ENGINE})
    spec_rule = (
        "LitmusChaos: the chaos-operator reads a ChaosEngine's experiments and their settings when "
        "its run starts and does not apply a later change to it"
    )

    def manifest(self, row: dict[str, Any], where: str) -> dict:
        for column, field in CHAOS_MESH_ONLY.items():
            if row.get(column) is not None:
                raise WriteRefused(
                    f"{where}: {column} is Chaos Mesh's ({field}); a ChaosEngine has none",
                    hint="leave it out (an experiment's own settings go in spec.experiments[].spec.components.env); "
                    + NOTHING,
                )
        spec = json_value(row.get("spec"), f"{where}: spec") or {}
        if not isinstance(spec, dict):
            raise WriteRefused(f"{where}: spec must be a JSON object, not {type(spec).__name__}", hint=NOTHING)
        if row.get("action") is not None:
            if spec.get("experiments"):
                raise WriteRefused(
                    f"{where}: action and spec.experiments both name the experiments",
                    hint="give one experiment in action, or several in spec.experiments; " + NOTHING,
                )
            spec["experiments"] = [{"name": str(row["action"])}]
        if not isinstance(spec.get("experiments"), list) or not spec["experiments"]:
            raise WriteRefused(
                f"{where}: a ChaosEngine needs an experiment to run",
                hint="set action (e.g. 'pod-delete', a ChaosExperiment in the namespace) or spec.experiments; "
                + NOTHING,
            )
        if row.get("selector") is not None:
            spec.update(_application(json_value(row["selector"], f"{where}: selector"), where))
        if row.get("duration") is not None:
            seconds = _seconds(row["duration"], where)
            for experiment in spec["experiments"]:
                if isinstance(experiment, dict):
                    _set_env(experiment, facts.DURATION_ENV, str(seconds))
        if row.get("paused") is not None:
            spec["engineState"] = facts.STOP if row["paused"] else facts.ACTIVE
        spec.setdefault("engineState", facts.ACTIVE)
        meta: dict[str, Any] = {"name": str(row["name"]), "namespace": str(row["namespace"])}
        labels = mapping(row.get("labels"), f"{where}: labels")
        annotations = mapping(row.get("annotations"), f"{where}: annotations")
        if labels:
            meta["labels"] = labels
        if annotations:
            meta["annotations"] = annotations
        return {"apiVersion": facts.API_VERSION, "kind": facts.CHAOS_ENGINE, "metadata": meta, "spec": spec}

    def pause(self, obj: dict, paused: bool) -> tuple[dict, str]:
        state = facts.STOP if paused else facts.ACTIVE
        current = (obj.get("spec") or {}).get("engineState")
        word = "stop (abort the run)" if paused else "engineState active (run again)"
        return ({} if current == state else {"spec": {"engineState": state}}), word

    def rows_of(self, obj: dict) -> list[str]:
        return [str(e.get("name")) for e in facts.experiments(obj)] or [""]

    def column_of(self, path: tuple) -> str | None:
        if len(path) > 1 and path[0] == "spec":
            if path[1] == "experiments" and any(p == facts.DURATION_ENV for p in path):
                return "duration"
            return COLUMNS.get(str(path[1]))
        return None


def _application(selector: Any, where: str) -> dict:
    """``selector`` as spec fields: an appinfo (appns, applabel, appkind), or appinfo/selectors."""
    if not isinstance(selector, dict):
        raise WriteRefused(f"{where}: selector must be a JSON object, not {type(selector).__name__}", hint=NOTHING)
    if set(selector) <= APPINFO_KEYS:
        return {"appinfo": selector}
    if set(selector) <= {"appinfo", "selectors"}:
        return selector
    raise WriteRefused(
        f"{where}: selector of a ChaosEngine names its application: {{appns, applabel, appkind}}, "
        f"or {{appinfo, selectors}}; not {', '.join(sorted(set(selector) - APPINFO_KEYS))}",
        hint='e.g. \'{"appns": "shop", "applabel": "app=web", "appkind": "deployment"}\'; ' + NOTHING,
    )


def _seconds(duration: Any, where: str) -> int:
    """A duration as whole seconds: a Go duration ("90s", "2m") or a number of seconds."""
    try:
        seconds = float(duration) if isinstance(duration, (int, float)) else go_duration(str(duration))
    except ValueError:
        seconds = -1.0
    if seconds <= 0 or seconds != int(seconds):
        raise WriteRefused(
            f"{where}: duration {duration!r} is not a whole, positive number of seconds",
            hint="e.g. '60s' or '2m' (LitmusChaos's TOTAL_CHAOS_DURATION is in seconds); " + NOTHING,
        )
    return int(seconds)


def _set_env(experiment: dict, name: str, value: str) -> None:
    """Set env var ``name`` of an engine's experiment (fields of the wrong type are left for the
    CRD check to name)."""
    spec = experiment.setdefault("spec", {})
    components = spec.setdefault("components", {}) if isinstance(spec, dict) else None
    env = components.setdefault("env", []) if isinstance(components, dict) else None
    if not isinstance(env, list):
        return
    for item in env:
        if isinstance(item, dict) and item.get("name") == name:
            item["value"] = value
            return
    env.append({"name": name, "value": value})
