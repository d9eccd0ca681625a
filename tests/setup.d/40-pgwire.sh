# Clients for the Postgres-wire tests (tests/server): psql, pgjdbc + javac, node-postgres, and a
# real PostgreSQL 15 server (initdb/pg_ctl) the differential tests compare chaosql's answers with.
# Python drivers come from pyproject's [test] extra. Sourced by scripts/test; idempotent.
_pgwire_apt=()
command -v psql >/dev/null 2>&1 || _pgwire_apt+=(postgresql-client)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || _pgwire_apt+=(postgresql)
[ -e /usr/share/java/postgresql.jar ] || _pgwire_apt+=(libpostgresql-jdbc-java)
command -v javac >/dev/null 2>&1 || _pgwire_apt+=(default-jdk-headless)
command -v npm >/dev/null 2>&1 || _pgwire_apt+=(npm)
if [ ${#_pgwire_apt[@]} -gt 0 ]; then
  for _try in 1 2 3 4 5 6 7 8 9 10; do  # other setup steps may hold the dpkg lock for a while
    if apt-get update -qq >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${_pgwire_apt[@]}" >/dev/null; then
      break
    fi
    sleep 10
  done
fi
_pgwire_node=tests/server/node
if [ ! -e "$_pgwire_node/node_modules/pg/package.json" ] && command -v npm >/dev/null 2>&1; then
  mkdir -p "$_pgwire_node"
  (cd "$_pgwire_node" && npm install --silent --no-audit --no-fund --no-save pg@8 >/dev/null 2>&1) || echo "40-pgwire: npm install pg failed; node tests will be skipped"
fi
unset _pgwire_apt _pgwire_node _try
