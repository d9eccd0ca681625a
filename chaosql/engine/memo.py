"""Results kept for the very same input objects (Arrow tables the watch cache or a snapshot hands
out again unchanged): the same result object comes back, which lets the next step (a session's
DuckDB registration, a kept answer) recognise it by identity too."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Generic, TypeVar

if TYPE_CHECKING:
    from concurrent.futures import Future

T = TypeVar("T")


class ByIdentity(Generic[T]):
    """Up to ``size`` results of ``make()`` for ``inputs``, keyed by the inputs' identities (the
    least recently used go first); the inputs are kept with their result, so their ids stay
    theirs. Callers asking for the same inputs at once wait for one ``make`` (fifty sessions
    reading the same new rows at a server's start would otherwise each make their own)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._kept: OrderedDict[tuple[int, ...], tuple[Sequence[Any], T]] = OrderedDict()
        self._making: dict[tuple[int, ...], Future] = {}
        self._lock = threading.Lock()

    def get(self, inputs: Sequence[Any], make: Callable[[], T]) -> T:
        key = tuple(map(id, inputs))
        with self._lock:
            kept = self._kept.get(key)
            if kept is not None:
                self._kept.move_to_end(key)
                return kept[1]
            making = self._making.get(key)
            if making is None:
                from concurrent.futures import Future  # not at import: classify imports this module

                making = self._making[key] = Future()
                mine = True
            else:
                mine = False
        if not mine:
            return making.result()  # make's error, if it failed
        try:
            made = make()
        except BaseException as err:
            with self._lock:
                del self._making[key]
            making.set_exception(err)
            raise
        with self._lock:
            self._kept[key] = (inputs, made)
            while len(self._kept) > self.size:
                self._kept.popitem(last=False)
            del self._making[key]
        making.set_result(made)
        return made


_MISSING = object()


def on_lent_tree(tree: Any, name: str, make: Callable[[Any], T]) -> T:
    """``make(tree)`` (a walk of a sqlglot tree), kept in the tree's meta when the tree is lent and
    never changed: the wire server's prepared statements (``meta["borrowed"]``), which every run
    of the statement, in every connection, would otherwise walk again. A copy the session changes
    is no longer lent (``session._own_copy``), so nothing kept is read from it."""
    if not tree.meta_get("borrowed"):
        return make(tree)
    key = f"chaosql.{name}"
    kept = tree.meta_get(key, _MISSING)
    if kept is _MISSING:
        kept = tree.meta[key] = make(tree)
    return kept
