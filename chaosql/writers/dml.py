"""One INSERT/UPDATE/DELETE on a chaos table, from statement to result.

0. bind the parameters (``?``, ``$1``, ``$name``) into the tree as typed literals (``params``);
1. refuse what is never done (read-only tables, UPDATE/DELETE without WHERE, computed columns);
2. find the rows: INSERT runs its VALUES or SELECT through the session; UPDATE and DELETE run
   ``SELECT <keys>, <SET expressions> FROM <table> WHERE <their WHERE>`` through the read path
   (pushdown and all) while the statement records the objects the sources returned, so each patch
   or delete carries the resourceVersion of exactly the object its row was computed from. Every
   read is part of the one statement (``Session.read``): a cancel or the timeout between two of
   them stops the write, and its calls are in the statement's log with the writes';
3. plan one operation per row (``plan.Plan``); EXPLAIN shows it and stops here;
4. ask for confirmation when more than ``chaosql.confirm_rows`` rows are touched;
5. validate every operation (dry run), then apply, rolling back on failure;
6. RETURNING: shape the objects the API returned with the table's own row shaper.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

from chaosql.errors import SqlError, UnsupportedError, WriteRefused
from chaosql.sources.base import KubeLikeSource
from chaosql.writers import chaosd, objects
from chaosql.writers.plan import (
    Create,
    Delete,
    MergePatch,
    ObjectRef,
    Operation,
    Plan,
    Skipped,
    TargetError,
    WriteContext,
)

if TYPE_CHECKING:
    from sqlglot import exp

    from chaosql.engine.session import Result, Session
    from chaosql.tables._table import Table
    from chaosql.writers import Writer

KEY_PREFIX = "__chaosql_"


def run_statement(
    writer: Writer, session: Session, tree: exp.Expr, *, explain: bool, analyze: bool, params: Any = None
) -> Result:
    from sqlglot import exp

    from chaosql.writers.params import bind

    tree = bind(tree, params)  # the rows, SETs and WHERE are run piece by piece: no placeholders left

    target_table = tree.this.this if isinstance(tree.this, exp.Schema) else tree.this
    name = target_table.name.lower()
    table = session.tables[name]
    objects.writes_of(table)
    verbs: dict[type[exp.Expr], str] = {exp.Insert: "INSERT", exp.Update: "UPDATE", exp.Delete: "DELETE"}
    verb = verbs[type(tree)]
    for arg in ("conflict", "using", "from_", "order", "limit", "with_"):
        if tree.args.get(arg) and not (arg == "with_" and verb == "INSERT"):
            raise UnsupportedError(
                f"{name}: {verb} with {arg.rstrip('_').upper()} is not supported",
                hint="select the rows in the WHERE clause (a subquery may read other tables)",
            )
    targets = Targets(session)
    if isinstance(tree, exp.Insert):
        plan = _plan_insert(session, tree, table, targets)
    else:
        plan = _plan_change(session, tree, table, targets, verb)
    statement = session.statement
    assert statement is not None  # run_statement runs inside Session.execute
    ctx = WriteContext(
        settings=dict(session.settings),
        before_apply=writer.before_apply,
        log=statement.log,
    )
    if explain:
        return _explain(session, plan, ctx, analyze)
    _confirm(session, plan)
    try:
        plan.validate(ctx)
        done = plan.apply(ctx)
    finally:
        targets.finish()
    result = _returning(session, tree, table, plan, done, targets)
    count = len(done)
    result.status = f"INSERT 0 {count}" if verb == "INSERT" else f"{verb} {count}"
    result.warnings = plan.notes + ctx.warnings
    return result


# --- where rows go ---------------------------------------------------------------------------------


class Targets:
    """cluster name -> its write target, built on first use for this statement."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._by_cluster: dict[str, Any] = {}
        self._made: dict[int, Any] = {}

    def clusters(self) -> dict[str, Any]:
        if not self._by_cluster:
            for source in self.session.sources:
                if source.family != "kube" or not isinstance(source, KubeLikeSource):
                    continue
                for cluster in source.clusters() or [source.name]:
                    self._by_cluster.setdefault(cluster, source)
        return self._by_cluster

    def default_cluster(self) -> str:
        clusters = self.clusters()
        if not clusters:
            raise WriteRefused(
                "no Kubernetes or snapshot source to write to", hint="open one with --source kube[:CONTEXT]"
            )
        return next(iter(clusters))

    def source_of(self, cluster: str) -> Any:
        from chaosql.sources.snapshot import SnapshotSource

        found = self.clusters().get(cluster)
        kube_like = [s for s in self.session.sources if s.family == "kube"]
        if (
            found is None
            and len(kube_like) == 1
            and isinstance(kube_like[0], SnapshotSource)
            and kube_like[0].path.is_dir()
        ):
            found = self._by_cluster[cluster] = kube_like[0]  # a new cluster: a new sub-directory
        if found is None:
            raise WriteRefused(f'no cluster "{cluster}" among the sources', hint="known: " + ", ".join(self.clusters()))
        return found

    def target(self, cluster: str) -> Any:
        from chaosql.sources.kube import KubeSource
        from chaosql.sources.snapshot import SnapshotSource

        source = self.source_of(cluster)
        if id(source) not in self._made:
            if isinstance(source, SnapshotSource):
                from chaosql.writers.snapshot import SnapshotTarget

                self._made[id(source)] = SnapshotTarget(source)
            elif isinstance(source, KubeSource):
                from chaosql.writers.kube import KubeTarget

                self._made[id(source)] = KubeTarget(source)
            else:
                raise UnsupportedError(f"source {source.name} cannot be written to")
        return self._made[id(source)]

    def crd(self, cluster: str, kind: str) -> Any:
        """The cluster's own CRD of ``kind`` (a kube source reads it once a minute), or None: the
        offline checks then use the CRD chaosql ships (snapshots, clusters that hide their CRDs)."""
        fetch = getattr(self.clusters().get(cluster), "crd", None)
        statement = self.session.statement  # the GET goes into the statement's call log (-v)
        return fetch(kind, statement.log if statement is not None else None) if fetch is not None else None

    def finish(self) -> None:
        for target in self._made.values():
            finish = getattr(target, "finish", None)
            if finish is not None:
                finish()


# --- INSERT ---------------------------------------------------------------------------------------


def _plan_insert(session: Session, tree: exp.Insert, table: Table, targets: Targets) -> Plan:
    from sqlglot import exp

    columns = [c.name.lower() for c in tree.this.expressions] if isinstance(tree.this, exp.Schema) else None
    body = tree.expression
    if isinstance(body, exp.Values):
        if columns is None:
            raise SqlError(
                f"INSERT INTO {table.name} ... VALUES needs a column list",
                hint=f"e.g. INSERT INTO {table.name} (namespace, name, kind, spec) VALUES (...)",
            )
        names = columns
        rows = []
        for number, item in enumerate(body.expressions, 1):
            # one SELECT per row: rows may differ in type (a spec as JSON text here, a STRUCT of
            # another shape there), which one VALUES list would have to unify into one type
            values = item.expressions if isinstance(item, exp.Tuple) else [item]
            if len(values) != len(columns):
                raise SqlError(
                    f"INSERT INTO {table.name}: row {number} has {len(values)} values for {len(columns)} columns"
                )
            found = session.read("SELECT " + ", ".join(v.sql(dialect="duckdb") for v in values))
            rows.append(dict(zip(columns, found.rows()[0])))
    elif isinstance(body, exp.Query):
        query = body.copy()
        if tree.args.get("with_"):
            query.set("with_", tree.args["with_"].copy())
        found = session.read(query.sql(dialect="duckdb"))
        names = [c.lower() for c in found.columns]
        if columns is not None:
            if len(columns) != len(names):
                raise SqlError(
                    f"INSERT INTO {table.name} names {len(columns)} columns but its SELECT gives {len(names)}"
                )
            names = columns
        rows = [dict(zip(names, values)) for values in found.rows()]
    else:
        raise UnsupportedError(f"INSERT INTO {table.name} takes VALUES or a SELECT")
    if table.name == "experiments" and any(chaosd.is_chaosd_row(r) for r in rows):  # Chaosd attacks
        if not all(chaosd.is_chaosd_row(r) for r in rows):
            raise WriteRefused(
                "experiments: one INSERT cannot mix Chaosd rows with Kubernetes rows",
                hint="insert the source = 'chaosd' rows in their own statement",
            )
        return Plan(table.name, "INSERT", list(chaosd.plan_insert(rows, session.sources)))
    objects.check_columns(table, names, table.column_names, "INSERT")
    selected = isinstance(body, exp.Query) and not body.args.get("distinct")  # rows may repeat
    plan = Plan(table.name, "INSERT")
    seen: dict[ObjectRef, int] = {}
    for index, row in enumerate(rows, 1):
        cluster = row.get("cluster") or targets.default_cluster()
        obj = objects.manifest(
            table, row, f"row {index}", cluster=str(cluster), crd_for=partial(targets.crd, str(cluster))
        )
        meta = obj["metadata"]
        ref = ObjectRef(str(cluster), obj["kind"], meta["namespace"], meta["name"])
        if ref in seen:
            hint = "names must be unique per kind and namespace; nothing was written"
            if selected and rows[seen[ref] - 1] == row:  # an object of several rows, selected once per row
                hint = f"the SELECT gives the same row for each row of the {ref.kind} it copies: SELECT DISTINCT " + (
                    "creates it once; nothing was written"
                )
            raise WriteRefused(f"{table.name}: rows {seen[ref]} and {index} both create {ref.kind} {ref}", hint=hint)
        seen[ref] = index
        plan.operations.append(Create(targets.target(ref.cluster), ref, obj))
    return plan


# --- UPDATE and DELETE ------------------------------------------------------------------------


def _select_recording(session: Session, sql: str) -> tuple[list[dict], dict]:
    """The rows of ``sql`` and the objects the sources returned for them (by cluster, kind,
    namespace and name), read as part of the running statement."""
    statement = session.statement
    assert statement is not None
    with statement.recording() as seen:
        rows = session.read(sql).dicts()
    return rows, seen


def _plan_change(session: Session, tree: exp.Expr, table: Table, targets: Targets, verb: str) -> Plan:
    from sqlglot import exp

    where = tree.args.get("where")
    if where is None and not session.settings["allow_unqualified_writes"]:
        raise WriteRefused(
            f"{verb} on {table.name} without WHERE would touch every row",
            hint="add a WHERE clause, or SET chaosql.allow_unqualified_writes = true",
        )
    sets: list[tuple[str, exp.Expr]] = []
    if verb == "UPDATE":
        for item in tree.expressions:
            if not isinstance(item, exp.EQ) or not isinstance(item.this, exp.Column):
                raise SqlError(f"UPDATE {table.name}: expected column = value, got {item.sql()}")
            sets.append((item.this.name.lower(), item.expression))
        objects.check_columns(table, [c for c, _ in sets], table.column_names, "UPDATE")
        objects.check_sets(table, [c for c, _ in sets], kinds=None)  # the engine's rules wait for the rows
    writes = objects.writes_of(table)
    source_ref = tree.this.sql(dialect="duckdb")
    keys = ["cluster", "namespace", "name"] + (["kind"] if writes.kind is None else [])
    picked = [f'"{k}" AS "{KEY_PREFIX}{k}"' for k in keys]
    picked += [f'({value.sql(dialect="duckdb")}) AS "{KEY_PREFIX}set_{i}"' for i, (_, value) in enumerate(sets)]
    if "source" in table.column_names:
        picked.append(f'"source" AS "{KEY_PREFIX}source"')
    chaosd_keys = [k for k in ("node", "uid", "status") if "node" in table.column_names]
    picked += [f'"{k}" AS "{KEY_PREFIX}{k}"' for k in chaosd_keys]
    base = f"SELECT {', '.join(picked)} FROM {source_ref}"
    condition = where.this.sql(dialect="duckdb") if where is not None else "true"

    def select(extra: str = "") -> tuple[list[dict], dict]:
        return _select_recording(session, f"{base} WHERE ({condition}){extra}")

    rows, seen = select()
    if verb == "UPDATE":
        kinds = {writes.kind} if writes.kind is not None else {str(r[f"{KEY_PREFIX}kind"]) for r in rows}
        objects.check_sets(table, [c for c, _ in sets], kinds)
    rows = _one_per_object(table, rows, seen, [c for c, _ in sets], verb)
    plan = Plan(table.name, verb)
    force = bool(session.settings["force_delete"])
    unchanged: list[str] = []  # rows already as the SETs ask: no patch
    deleting: list[str] = []  # rows being deleted (Chaos Mesh recovers them): an UPDATE is moot
    for row in rows:
        ref = _row_ref(row, writes.kind)  # the kind is selected when the table has several
        if chaosd.is_chaosd_row({"source": row.get(f"{KEY_PREFIX}source")}):  # recover over the Chaosd API
            if verb == "UPDATE":
                raise WriteRefused(
                    f"{table.name}: Chaosd experiments cannot be updated ({ref}): chaosd has no pause "
                    "and no spec change",
                    hint="DELETE the row to recover it, then INSERT a new attack",
                )
            found = {k: row[f"{KEY_PREFIX}{k}"] for k in ("cluster", "kind", *chaosd_keys)}
            plan.operations.extend(chaosd.plan_delete([found], session.sources))
            continue
        if row.get(f"{KEY_PREFIX}source") not in (None, "kube", "snapshot"):
            raise UnsupportedError(
                f"{table.name}: {verb} of {row[f'{KEY_PREFIX}source']} rows is not supported here ({ref})"
            )
        obj = seen.get((ref.cluster, ref.kind, ref.namespace, ref.name))
        if obj is None:
            raise WriteRefused(f"{table.name}: {ref} was not read from a Kubernetes or snapshot source; cannot {verb}")
        target = targets.target(ref.cluster)
        refresh = _refresher(select, ref, obj, sets, table, verb)
        if verb == "UPDATE":
            if (obj.get("metadata") or {}).get("deletionTimestamp"):  # Chaos Mesh is recovering it
                deleting.append(str(ref))
                continue
            values = {col: row[f"{KEY_PREFIX}set_{i}"] for i, (col, _) in enumerate(sets)}
            patch, summary = objects.update_patch(
                table, obj, values, cluster=ref.cluster, crd_for=partial(targets.crd, ref.cluster)
            )
            if not patch:  # e.g. SET paused = true on a paused experiment: nothing to send
                unchanged.append(str(ref))
                continue
            plan.operations.append(
                MergePatch(target, ref, _with_precondition(patch, obj), before=obj, summary=summary, refresh=refresh)
            )
        else:
            plan.operations.append(
                Delete(target, ref, preconditions=_preconditions(obj), force=force, before=obj, refresh=refresh)
            )
    if unchanged:
        plan.notes.append(f"{table.name}: {_some(unchanged)} already as the UPDATE sets them: not patched")
    if deleting:
        plan.notes.append(f"{table.name}: {_some(deleting)} being deleted (Chaos Mesh is recovering them): not patched")
    return plan


def _row_ref(row: dict, kind: str | None) -> ObjectRef:
    """The object a selected row came from (``kind`` None: the row's kind column)."""
    return ObjectRef(
        row[f"{KEY_PREFIX}cluster"],
        kind or row[f"{KEY_PREFIX}kind"],
        row[f"{KEY_PREFIX}namespace"] or "",
        row[f"{KEY_PREFIX}name"],
    )


def _one_per_object(table: Table, rows: list[dict], seen: dict, sets: list[str], verb: str) -> list[dict]:
    """One row per object: an engine plugin's object may make several rows (a ChaosEngine, one per
    experiment). A change to it changes all of them, so the WHERE must select them all, and an
    UPDATE must set each to the same values; else the statement is refused."""
    writes = objects.writes_of(table)
    if writes.kind is not None:
        return rows
    chosen: dict[ObjectRef, list[dict]] = {}
    order: list[ObjectRef | dict] = []  # the statement's order: a Chaosd row, or an object's first row
    for row in rows:
        if chaosd.is_chaosd_row({"source": row.get(f"{KEY_PREFIX}source")}):
            order.append(row)  # one Chaosd experiment per row
            continue
        ref = _row_ref(row, writes.kind)
        if ref not in chosen:
            order.append(ref)
        chosen.setdefault(ref, []).append(row)
    for ref, group in chosen.items():
        engine = objects.kind_writes(table.name, ref.kind) if ref.kind else None
        obj = seen.get((ref.cluster, ref.kind, ref.namespace, ref.name))
        if engine is None or obj is None:
            continue
        runs = engine.rows_of(obj)
        act = "stops or restarts" if verb == "UPDATE" and "paused" in sets else "changes"
        act = "deletes" if verb == "DELETE" else act
        if len(group) < len(runs):
            raise WriteRefused(
                f"{table.name}: {ref.kind} {ref} makes {len(runs)} rows ({', '.join(runs)}) and the WHERE "
                f"selects {len(group)}: {verb} {act} the whole {ref.kind}",
                hint=f"select all its rows (name = '{ref.name}'); nothing was written",
            )
        values = {tuple(repr(r[f"{KEY_PREFIX}set_{i}"]) for i in range(len(sets))) for r in group}
        if len(values) > 1:
            raise WriteRefused(
                f"{table.name}: UPDATE sets different values on the rows of {ref.kind} {ref}, one object",
                hint="set the same values on all its rows; nothing was written",
            )
    return [chosen[item][0] if isinstance(item, ObjectRef) else item for item in order]


def _some(refs: list[str]) -> str:
    """``3 rows (c1/ns/a, c1/ns/b, c1/ns/c)``, the first few named."""
    from chaosql.writers.plan import SHOWN

    shown = ", ".join(refs[:SHOWN]) + (f" and {len(refs) - SHOWN} more" if len(refs) > SHOWN else "")
    return f"{len(refs)} row{'s' if len(refs) != 1 else ''} ({shown})"


def _with_precondition(patch: dict, obj: dict) -> dict:
    """Add metadata.resourceVersion: the API server then refuses the patch (409) if the object
    changed since it was read, instead of silently overwriting that change."""
    version = (obj.get("metadata") or {}).get("resourceVersion")
    if version:
        patch = {**patch, "metadata": {**(patch.get("metadata") or {}), "resourceVersion": version}}
    return patch


def _preconditions(obj: dict) -> dict:
    meta = obj.get("metadata") or {}
    return {"uid": meta.get("uid"), "resourceVersion": meta.get("resourceVersion")}


def _refresher(
    select: Callable[[str], tuple[list[dict], dict]], ref: ObjectRef, obj: dict, sets: list, table: Table, verb: str
) -> Callable[[], tuple[dict, dict]]:
    """After a conflict: read the object again through the same WHERE (restricted to it) and
    rebuild the change from the fresh object, so a concurrent change is kept, never lost."""
    uid = (obj.get("metadata") or {}).get("uid")

    def refresh() -> tuple[dict, dict]:
        quoted = [
            f"{col} = '{str(value).replace(chr(39), chr(39) * 2)}'"
            for col, value in (("cluster", ref.cluster), ("namespace", ref.namespace), ("name", ref.name))
        ]
        if table.name == "experiments":
            quoted.append(f"kind = '{ref.kind}'")
        rows, seen = select(" AND " + " AND ".join(quoted))
        fresh = seen.get((ref.cluster, ref.kind, ref.namespace, ref.name))
        if not rows or fresh is None:
            raise Skipped("changed concurrently and no longer matches the WHERE")
        if uid and (fresh.get("metadata") or {}).get("uid") != uid:
            raise Skipped("was deleted and created again concurrently")
        if verb == "DELETE":
            return _preconditions(fresh), fresh
        if (fresh.get("metadata") or {}).get("deletionTimestamp"):
            raise Skipped("is being deleted now (Chaos Mesh is recovering it)")
        values = {col: rows[0][f"{KEY_PREFIX}set_{i}"] for i, (col, _) in enumerate(sets)}
        patch, _ = objects.update_patch(table, fresh, values, cluster=ref.cluster)
        if not patch:
            raise Skipped("was changed concurrently to what the UPDATE sets")
        return _with_precondition(patch, fresh), fresh

    return refresh


# --- EXPLAIN, confirmation, RETURNING ----------------------------------------------------------


def _explain(session: Session, plan: Plan, ctx: WriteContext, analyze: bool) -> Result:
    rows = plan.explain()
    names = ["method", "path", "summary"]
    columns: list[list] = [[r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows]]
    if analyze:
        checks = []
        for op in plan.operations:
            try:
                op.validate(ctx)
                checks.append("ok")
            except TargetError as err:
                checks.append(err.message)
        names.append("dry_run")
        columns.append(checks)
        # then every call the statement made, as EXPLAIN ANALYZE of a read shows them: the reads
        # that found the rows, and the dry runs
        for call in list(ctx.log.calls):
            for column, value in zip(
                columns,
                (
                    "call",
                    call.what,
                    f"{call.source}/{call.cluster}: {call.items} objects in {call.seconds * 1000:.0f} ms",
                    "",
                ),
            ):
                column.append(value)
    from chaosql.engine.result import Result

    result = Result.of_columns(names, columns, ["VARCHAR"] * len(names))
    checks = list(dict.fromkeys(op.checks() for op in plan.operations)) or ["a dry run"]
    result.warnings = plan.notes + [
        f"EXPLAIN {plan.verb}: nothing was written"
        + (
            " (each call was checked with " + "; or ".join(checks) + ")"
            if analyze
            else " and no write call was made; EXPLAIN ANALYZE checks each call with " + "; or ".join(checks)
        )
    ]
    return result


def _confirm(session: Session, plan: Plan) -> None:
    limit = int(session.settings["confirm_rows"])
    count = len(plan.operations)
    if count <= limit:
        return
    question = f"{plan.verb} touches {count} {plan.table} rows (more than chaosql.confirm_rows = {limit}). Go ahead?"
    confirm = getattr(session, "confirm", None)
    if confirm is None:
        raise WriteRefused(
            f"{plan.table}: {plan.verb} touches {count} rows, more than chaosql.confirm_rows = {limit}",
            hint="pass --yes to apply it, or SET chaosql.confirm_rows = " + str(count),
        )
    if not confirm(question):
        raise WriteRefused(f"{plan.table}: {plan.verb} of {count} rows not confirmed; nothing was written")


def _returning(
    session: Session, tree: exp.Expr, table: Table, plan: Plan, done: list[Operation], targets: Targets
) -> Result:
    from chaosql.engine.session import Result
    from chaosql.tables._table import RowContext

    returning = tree.args.get("returning")
    if returning is None:
        return Result()
    from chaosql.tables._kube import KubeFeed

    feeds = [f for f in table.feeds_for("kube") if isinstance(f, KubeFeed)]
    assert feeds, f"{table.name}: writable tables are filled by a Kubernetes feed"
    shaped = []
    for op in done:
        if hasattr(op, "returning_row"):  # operations on other systems (Chaosd) shape their own row
            shaped.append(op.returning_row())
            continue
        obj = getattr(op, "before", None) if isinstance(op, Delete) else op.result
        if not obj:
            continue
        feed = next((f for f in feeds if f.serves(op.ref.kind)), feeds[0])  # an engine's own rows
        source = targets.source_of(op.ref.cluster)
        ctx = RowContext(source=source.name, cluster=op.ref.cluster, family=source.kind_label)
        shaped.extend(feed.rows(obj, ctx))
    view = session.register_rows(table.name, table.to_arrow(shaped))
    from sqlglot import exp

    written = tree.this.this if isinstance(tree.this, exp.Schema) else tree.this
    alias = written.alias or table.name
    exprs = ", ".join(e.sql(dialect="duckdb") for e in returning.expressions)
    relation = session.con.sql(f'SELECT {exprs} FROM "{view}" AS "{alias}"')
    data = relation.to_arrow_table()
    return Result(columns=list(relation.columns), types=[str(t) for t in relation.types], _table=data)
