"""history_metrics: the PromQL samples each snapshot recorded ([snapshot] metrics in the config)."""

from chaosql.tables.history import history_table
from chaosql.tables.metrics import TABLE as BASE

TABLE = history_table(BASE)
