"""history_targets: every snapshot of targets, from a history:DIR source (see chaosql/tables/history.py)."""

from chaosql.tables.history import history_table
from chaosql.tables.targets import TABLE as BASE

TABLE = history_table(BASE)
