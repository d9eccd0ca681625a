"""Capture what PostgreSQL clients send, from a real PostgreSQL 15 with log_statement=all.

Starts Debian's PostgreSQL in a temp dir (tests/server/realpg.py), creates the chaosql tables there
with the same columns, runs the same client scenarios the tests run (psql, pgcli, psycopg,
asyncpg, pg8000, psycopg2, SQLAlchemy, Superset's inspector calls, pgjdbc, node-postgres), and
writes every logged statement, with its parameters substituted, to ``<client>.sql`` files here
(statements separated by a line ``;;``).
Run: ``python3 tests/server/corpus/capture.py``; commit the .sql files.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from pg_differential import pg_column_type  # noqa: E402
from realpg import RealPostgres  # noqa: E402

SEPARATOR = "\n;;\n"


def create_tables(dsn: str) -> None:
    import psycopg

    from chaosql.tables import registry

    with psycopg.connect(dsn, autocommit=True) as con:
        for name, table in registry().items():
            cols = ", ".join(f'"{c.name}" {pg_column_type(c.type)}' for c in table.columns)
            con.execute(f'CREATE TABLE "{name}" ({cols})')
            con.execute(f'COMMENT ON TABLE "{name}" IS %s'.replace("%s", "'" + table.doc.replace("'", "''") + "'"))


def scenarios(pg: RealPostgres) -> dict[str, callable]:
    user_dsn = pg.dsn

    def psql() -> None:
        env = {**os.environ, "PGPASSWORD": "chaos"}
        subprocess.run(
            [
                "psql",
                user_dsn,
                "-X",
                "-c",
                "SELECT name, kind FROM experiments LIMIT 3",
                "-c",
                r"\dt",
                "-c",
                r"\d experiments",
                "-c",
                r"\l",
                "-c",
                r"\dn",
                "-c",
                r"\d+ experiments",
            ],
            check=True,
            capture_output=True,
            env={**env, "PGAPPNAME": "psql"},
        )

    def psycopg3() -> None:
        import psycopg
        from psycopg.types import TypeInfo

        with psycopg.connect(user_dsn, autocommit=True, application_name="psycopg") as con:
            con.execute("SELECT name, kind FROM experiments LIMIT 3").fetchall()
            con.execute("SELECT count(*) FROM experiments WHERE kind = %s", ("PodChaos",)).fetchall()
            con.execute("SELECT name FROM experiments WHERE target_count > %s", (0,), prepare=True).fetchall()
            TypeInfo.fetch(con, "json")

    def asyncpg_() -> None:
        import asyncpg

        async def main():
            con = await asyncpg.connect(user_dsn, server_settings={"application_name": "asyncpg"})
            await con.fetch("SELECT name, kind FROM experiments LIMIT 3")
            await con.fetchval("SELECT count(*) FROM experiments WHERE kind = $1", "PodChaos")
            await con.close()

        asyncio.run(main())

    def pg8000_() -> None:
        import pg8000.native

        con = pg8000.native.Connection(
            "postgres", password="chaos", host="127.0.0.1", port=pg.port, application_name="pg8000"
        )
        con.run("SELECT name, kind FROM experiments LIMIT 3")
        con.run("SELECT count(*) FROM experiments WHERE kind = :k", k="PodChaos")
        con.close()

    def psycopg2_() -> None:
        import psycopg2

        con = psycopg2.connect(user_dsn, application_name="psycopg2")
        cur = con.cursor()
        cur.execute("SELECT name, kind FROM experiments LIMIT 3")
        cur.execute("SELECT count(*) FROM experiments WHERE kind = %s", ("PodChaos",))
        con.close()

    def sqlalchemy_() -> None:
        import sqlalchemy

        engine = sqlalchemy.create_engine(
            user_dsn.replace("postgresql://", "postgresql+psycopg://"), connect_args={"application_name": "sqlalchemy"}
        )
        inspector = sqlalchemy.inspect(engine)
        inspector.get_table_names()
        inspector.get_columns("experiments")
        inspector.get_pk_constraint("experiments")
        inspector.get_foreign_keys("experiments")
        inspector.get_indexes("experiments")
        with engine.connect() as con:
            con.execute(sqlalchemy.text("SELECT name, kind FROM experiments LIMIT 3")).fetchall()
        engine.dispose()

    def pgcli() -> None:
        """What pgcli sends: its completion refresh (pgcli's own refreshers) and pgspecial's meta-commands."""
        from pgcli.completion_refresher import CompletionRefresher
        from pgcli.pgcompleter import PGCompleter
        from pgcli.pgexecute import PGExecute
        from pgspecial.main import PGSpecial

        executor = PGExecute("postgres", "postgres", "chaos", "127.0.0.1", pg.port, None, application_name="pgcli")
        completer = PGCompleter(smart_completion=True)
        for refresh in CompletionRefresher.refreshers.values():
            refresh(completer, executor)
        special = PGSpecial()
        for command in (r"\dt", r"\dv", r"\d experiments", r"\d+ experiments", r"\dn", r"\df", r"\dT", r"\l", r"\du"):
            for _title, rows, *_ in executor.run(command, pgspecial=special):
                list(rows or [])
        executor.conn.close()

    def superset() -> None:
        """Superset's table metadata: the SQLAlchemy inspector calls its database engine spec makes."""
        import sqlalchemy

        engine = sqlalchemy.create_engine(
            user_dsn.replace("postgresql://", "postgresql+psycopg://"), connect_args={"application_name": "superset"}
        )
        inspector = sqlalchemy.inspect(engine)
        inspector.get_schema_names()
        inspector.get_table_names("public")
        inspector.get_view_names("public")
        for call in (
            inspector.get_columns,
            inspector.get_pk_constraint,
            inspector.get_foreign_keys,
            inspector.get_indexes,
            inspector.get_unique_constraints,
            inspector.get_check_constraints,
            inspector.get_table_comment,
        ):
            call("experiments", "public")
        with engine.connect() as con:
            con.execute(sqlalchemy.text("SELECT name, kind FROM public.experiments LIMIT 100")).fetchall()
        engine.dispose()

    def pgjdbc() -> None:
        jar = "/usr/share/java/postgresql.jar"
        out = HERE.parent / "build" / "jdbc"
        out.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            ["javac", "-d", str(out), "-cp", jar, str(HERE.parent / "jdbc" / "ChaosqlJdbc.java")], check=True
        )
        url = f"jdbc:postgresql://127.0.0.1:{pg.port}/postgres?user=postgres&password=chaos&ApplicationName=pgjdbc"
        subprocess.run(
            ["java", "-cp", f"{out}:{jar}", "ChaosqlJdbc", url, "PodChaos"],
            check=True,
            capture_output=True,
            timeout=120,
        )

    def node() -> None:
        modules = HERE.parent / "node" / "node_modules"
        subprocess.run(
            [
                "node",
                str(HERE.parent / "nodejs" / "client.js"),
                user_dsn + "?application_name=node",
                "SELECT name, kind FROM experiments LIMIT 3",
                "PodChaos",
            ],
            check=True,
            capture_output=True,
            env={**os.environ, "NODE_PATH": str(modules)},
        )

    return {
        "psql": psql,
        "psycopg": psycopg3,
        "asyncpg": asyncpg_,
        "pg8000": pg8000_,
        "psycopg2": psycopg2_,
        "sqlalchemy": sqlalchemy_,
        "pgcli": pgcli,
        "superset": superset,
        "pgjdbc": pgjdbc,
        "node": node,
    }


_ENTRY = re.compile(
    r"^(?P<app>[^|\n]*)\|\d+\|(?P<level>LOG|DETAIL|ERROR|STATEMENT|HINT|WARNING|NOTICE|FATAL):\s+", re.M
)


def parse_log(text: str) -> dict[str, list[str]]:
    """application_name -> statements (parameters substituted) from a log_statement=all log."""
    out: dict[str, list[str]] = {}
    entries = []
    starts = [m for m in _ENTRY.finditer(text)]
    for i, m in enumerate(starts):
        body = text[m.end() : starts[i + 1].start() if i + 1 < len(starts) else len(text)].rstrip("\n")
        entries.append((m.group("app"), body, m.group("level")))
    for i, (app, body, level) in enumerate(entries):
        if level != "LOG":
            continue
        following = [e for e in entries[i + 1 : i + 3] if e[0] == app]
        if any(e[2] == "ERROR" for e in following):
            continue  # failed on PostgreSQL too (a test's deliberate error)
        m = re.match(r"(?:statement|execute [^:]*):\s(.*)", body, re.S)
        if not m:
            continue
        sql = m.group(1)
        nxt = entries[i + 1][1] if i + 1 < len(entries) else ""
        if nxt.startswith("parameters:"):
            params = dict(re.findall(r"(\$\d+) = ((?:'(?:[^']|'')*')|NULL)", nxt))
            sql = re.sub(r"\$\d+", lambda p, params=params: params.get(p.group(0), p.group(0)), sql)
        out.setdefault(app or "unknown", []).append(sql.strip())
    return out


def main() -> None:
    with RealPostgres(log_statements=True) as pg:
        create_tables(pg.dsn)
        for name, scenario in scenarios(pg).items():
            needs = {"psql": "psql", "pgjdbc": "javac", "node": "node"}.get(name)
            if needs and not shutil.which(needs):
                print(f"skip {name}: {needs} missing")
                continue
            scenario()
        log = pg.log.read_text(encoding="utf-8", errors="replace")
    captured = parse_log(log)
    for app, statements in sorted(captured.items()):
        if app in ("", "unknown"):
            continue
        app = "startup" if app == "[unknown]" else app  # sent before application_name is set (pgjdbc)
        kept = [s for s in dict.fromkeys(statements) if "CREATE TABLE" not in s and "COMMENT ON" not in s]
        (HERE / f"{re.sub(r'[^a-z0-9]+', '_', app.lower())}.sql").write_text(
            SEPARATOR.join(kept) + "\n", encoding="utf-8"
        )
        print(f"{app}: {len(kept)} statements")


if __name__ == "__main__":
    main()
