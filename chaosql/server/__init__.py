"""``chaosql serve``: the PostgreSQL wire protocol (3.0) in front of chaosql sessions.

Modules, each one concern:

* ``wire``: framing; reading and building protocol messages;
* ``types``: DuckDB type -> PostgreSQL OID, text and binary codecs; ``rows``: DataRows with numpy;
* ``auth``: users from the config, SCRAM-SHA-256, md5, cleartext; ``handshake``: the exchange;
* ``chatter``: SET/SHOW/BEGIN/COMMIT/SAVEPOINT... answered by the server itself;
* ``catalog`` + ``rewrite``: pg_catalog and information_schema built from the table registry,
  and the sqlglot rewrite that points client introspection queries at them (``pg_schema``: the
  catalogs' columns, generated from a real PostgreSQL);
* ``statements``: what a statement is and how it runs on the connection's Session;
* ``connection``: one client: startup, simple and extended query protocol; ``streaming`` and
  ``cursors``: sending rows in batches, DECLARE/FETCH;
* ``server``: the asyncio listener, TLS, cancel keys; ``cli``: the command.
"""
