# A real Chaosd v1.4.0 for tests/chaosdenv.py, built from Go modules by tests/chaosd-env/build.sh.
# Sourced by scripts/test; a no-op (~20 ms) when bin/chaosd matches the hash of go.mod/go.sum/build.sh.
# A fresh machine needs Go >= 1.24 (go.mod's `tool` directive) and gcc (go-sqlite3 is cgo); a cold
# build downloads ~700 MB of modules from the Go proxy and takes ~5 min on 2 CPUs.
if ! command -v gcc >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends gcc libc6-dev >/dev/null
fi
if command -v go >/dev/null 2>&1; then
  # A failed build does not stop the other tests: the chaosd tests then report it (under CI they fail).
  bash tests/chaosd-env/build.sh >/dev/null || echo "chaosd-env: build failed; see tests/chaosd-env/bin/build.log" >&2
else
  # The chaosd tests skip (or fail under CHAOSQL_REQUIRE_CHAOSD=1) without a binary.
  echo "chaosd-env: no Go toolchain on PATH; chaosd tests will be skipped" >&2
fi
