"""history_events: every snapshot of events, from a history:DIR source (see chaosql/tables/history.py)."""

from chaosql.tables.events import TABLE as BASE
from chaosql.tables.history import history_table

TABLE = history_table(BASE)
