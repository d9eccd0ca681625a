"""What a guard remembers between evaluations: which breaches are pending, since when, and which
were acted on recently. Pure bookkeeping over times it is given, so it is tested without a clock.

A breach is identified by its key (the values of the guard's key columns). It is *pending* from
the first evaluation that returns it; an evaluation that no longer returns it ends it (a blip).
It is *due* once it has been returned by every evaluation for at least ``for`` seconds, unless it
was acted on less than ``cooldown`` seconds ago. An evaluation that cannot see (a source down)
changes nothing: pending breaches stay pending, and ``blind_for`` says how long it has lasted.

>>> t = Tracker(for_=30, cooldown=300)
>>> t.observe({("shop", "delay-1"): {}}, now=0).new
[('shop', 'delay-1')]
>>> t.observe({("shop", "delay-1"): {}}, now=20).due
[]
>>> t.observe({("shop", "delay-1"): {}}, now=31).due
[('shop', 'delay-1')]
>>> t.acted([("shop", "delay-1")], now=31)
>>> t.observe({("shop", "delay-1"): {}}, now=40).cooling
[('shop', 'delay-1')]
>>> t.observe({}, now=45).ended
[(('shop', 'delay-1'), 45)]
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

Key = tuple[Hashable, ...]


@dataclass
class Observation:
    """What one evaluation changed: breaches first seen, breaches that ended (with how long they
    lasted), breaches due for action, and breaches due but cooling down."""

    new: list[Key] = field(default_factory=list)
    ended: list[tuple[Key, float]] = field(default_factory=list)
    due: list[Key] = field(default_factory=list)
    cooling: list[Key] = field(default_factory=list)


class Tracker:
    def __init__(self, *, for_: float, cooldown: float) -> None:
        self.for_ = for_
        self.cooldown = cooldown
        self.pending: dict[Key, float] = {}  # key -> first seen
        self.acted_at: dict[Key, float] = {}
        self.blind_since: float | None = None

    def observe(self, breaches: Mapping[Key, Any], *, now: float) -> Observation:
        """Record one evaluation that returned ``breaches`` (key -> row)."""
        self.blind_since = None
        seen = Observation()
        for key in list(self.pending):
            if key not in breaches:
                seen.ended.append((key, now - self.pending.pop(key)))
        for key in breaches:
            if key not in self.pending:
                self.pending[key] = now
                seen.new.append(key)
            if now - self.pending[key] >= self.for_:
                if self.cooling(key, now):
                    seen.cooling.append(key)
                else:
                    seen.due.append(key)
        self._forget_cooled(now)
        return seen

    def cooling(self, key: Key, now: float) -> bool:
        at = self.acted_at.get(key)
        return at is not None and now - at < self.cooldown

    def acted(self, keys: Iterable[Key], *, now: float) -> None:
        for key in keys:
            self.acted_at[key] = now

    def blind(self, *, now: float) -> float:
        """Record an evaluation that could not see; returns for how long the guard has been blind."""
        if self.blind_since is None:
            self.blind_since = now
        return now - self.blind_since

    def _forget_cooled(self, now: float) -> None:
        for key in [k for k, at in self.acted_at.items() if now - at >= self.cooldown and k not in self.pending]:
            del self.acted_at[key]
