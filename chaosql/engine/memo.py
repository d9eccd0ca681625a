"""Results kept for the very same input objects (Arrow tables the watch cache or a snapshot hands
out again unchanged): the same result object comes back, which lets the next step (a session's
DuckDB registration, a kept answer) recognise it by identity too."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from typing import Any, Generic, TypeVar

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
