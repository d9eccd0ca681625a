"""``chaosql serve``: the PostgreSQL wire protocol (3.0) in front of chaosql sessions.

Modules, each one concern:

* ``wire``: framing; reading and building protocol messages;
* ``types``: DuckDB type -> PostgreSQL OID, text and binary codecs;
* ``auth``: users from the config, SCRAM-SHA-256, md5, cleartext;
* ``chatter``: SET/SHOW/BEGIN/COMMIT/SAVEPOINT... answered by the server itself;
* ``catalog`` + ``rewrite``: pg_catalog and information_schema built from the table registry,
  and the sqlglot rewrite that points client introspection queries at them;
* ``connection``: one client: startup, simple and extended query protocol;
* ``server``: the asyncio listener, TLS, cancel keys; ``cli``: the command.
"""
