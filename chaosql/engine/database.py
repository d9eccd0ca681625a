"""The DuckDB database a session runs its statements in.

A DuckDB database takes ~14 ms to create (its catalog of built-in functions), and the chaos
tables' empty stand-ins (``own.create_catalog``) as long again: a wire server whose fifty clients
connect at once would spend most of a second on databases before answering any of them. A cursor
on a database that is already there takes microseconds. So sessions of a server share one database
per process (``shared``), each through a cursor of its own, for as long as they change nothing in
it: what a cursor registers (the chaos tables' Arrow rows), its temporary objects and its session
settings (TimeZone, integer_division) are its own in DuckDB.

A session that would change the database itself (a table, view or macro, a DuckDB setting, the
PostgreSQL catalog, stand-ins of other tables) moves to a database of its own first
(``Session.own_database``), taking its settings and registered rows along, so no session ever
sees another's objects.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import duckdb

    from chaosql.tables._table import Table


class SharedDatabase:
    """One DuckDB database, with the stand-ins of the registry's (not generated) chaos tables."""

    def __init__(self, config: dict[str, Any]) -> None:
        import duckdb

        from chaosql.engine import own
        from chaosql.tables import registry
        from chaosql.tables._table import LazyTable

        self.con: duckdb.DuckDBPyConnection = duckdb.connect(":memory:", config=config)
        #: name -> the Table whose stand-in the database holds (sessions compare by identity)
        self.stand_ins: dict[str, Table] = {
            name: table for name, table in registry().items() if not isinstance(table, LazyTable)
        }
        own.create_catalog(self.con, self.stand_ins.values())

    def cursor(self) -> duckdb.DuckDBPyConnection:
        return self.con.cursor()


_shared: dict[tuple, SharedDatabase] = {}
_lock = threading.Lock()


def shared(config: dict[str, Any]) -> SharedDatabase:
    """The process's shared database for DuckDB ``config`` (made at first need)."""
    key = tuple(sorted(config.items()))
    with _lock:
        database = _shared.get(key)
        if database is None:
            database = _shared[key] = SharedDatabase(config)
        return database


def sharable() -> bool:
    """Whether sessions may share a database: not when a plugin prepares each session's DuckDB
    (``prepare_session``), which may create objects of its own in it."""
    from chaosql import plugins

    return not plugins.hook().prepare_session.get_hookimpls()
