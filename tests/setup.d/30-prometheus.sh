# Prometheus for tests/promenv.py: the Debian package gives `prometheus` and `promtool`.
# Sourced by scripts/test; idempotent and quick when both are already installed.
if ! command -v prometheus >/dev/null 2>&1 || ! command -v promtool >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # --no-install-recommends: no node exporter, no service start beyond what the package does
  apt-get install -y -qq --no-install-recommends prometheus >/dev/null
  # The package may start its own service where an init system runs; the tests start their own.
  if command -v service >/dev/null 2>&1; then service prometheus stop >/dev/null 2>&1 || true; fi
fi
