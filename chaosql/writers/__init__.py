"""Writers: INSERT/UPDATE/DELETE on chaos tables become planned API operations.

``Writer`` is what ``Session.writer`` holds; it is imported on every Session, so this module stays
light and imports the planning code on first use.

* ``plan``     — operations (Create, MergePatch, Delete, ...) and the validate/apply/rollback loop
* ``params``   — a write's bind parameters as literals in its tree, before planning
* ``dml``      — the statement's rows: INSERT values, UPDATE's SET values, the rows WHERE selects
* ``objects``  — a row of experiments/schedules/workflows → a Chaos Mesh manifest, and SET → patch
* ``typed``    — the typed chaos tables' columns → the fields of a manifest
* ``validate`` — an object against its CRD's schema, offline (``webhook``: Chaos Mesh's admission rules)
* ``checks``   — those problems refused before any call, naming the row and the column
* ``kube``     — the live Kubernetes API as a write target (dry runs, preconditions)
* ``snapshot`` — a snapshot directory as a write target (GitOps: tidy YAML files)
* ``chaosd``   — Chaosd attack/recover operations
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlglot import exp

    from chaosql.engine.session import Result, Session


class Writer:
    """Runs one DML statement on a virtual table for a Session.

    ``before_apply(index, operation)``, when set, is called before each operation is applied
    (tests inject failures and concurrent changes there).
    """

    def __init__(self) -> None:
        self.before_apply: Any = None

    def execute(
        self,
        session: Session,
        tree: exp.Expr,
        *,
        explain: bool = False,
        analyze: bool = False,
        params: Sequence[Any] | Mapping[str, Any] | None = None,
    ) -> Result:
        """``params`` fill the statement's ``?``, ``$1`` or ``$name`` placeholders (``writers.params``)."""
        from chaosql.writers.dml import run_statement

        return run_statement(self, session, tree, explain=explain, analyze=analyze, params=params)


__all__ = ["Writer"]
