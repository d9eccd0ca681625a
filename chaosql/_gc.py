"""Pause Python's cyclic garbage collector while building millions of small objects.

Parsing a large snapshot or shaping 100,000 rows allocates dicts that all stay alive; each
generation-2 collection then walks the whole heap again, and the run time grows far faster than
the data. None of these objects form cycles, so collecting is pure cost until the work is done.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_depth = 0
_was_enabled = True


@contextmanager
def paused() -> Iterator[None]:
    """Disable the collector for the block; nested and concurrent blocks re-enable it once, last."""
    global _depth, _was_enabled
    with _lock:
        if _depth == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _was_enabled:
                gc.enable()
