"""history_experiments: every snapshot of experiments, from a history:DIR source (see chaosql/tables/history.py)."""

from chaosql.tables.experiments import TABLE as BASE
from chaosql.tables.history import history_table

TABLE = history_table(BASE)
