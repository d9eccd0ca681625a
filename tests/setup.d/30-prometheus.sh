# Prometheus for tests/promenv.py: the Debian package gives `prometheus` and `promtool`.
# Sourced by scripts/test; idempotent and quick when both are already installed.
if ! command -v prometheus >/dev/null 2>&1 || ! command -v promtool >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # The package's own service would listen on every interface (:9090); the tests start their own
  # servers on 127.0.0.1. policy-rc.d answering 101 keeps the install from starting it.
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
    _chaosql_policy_rc=1
  fi
  apt-get install -y -qq --no-install-recommends prometheus >/dev/null
  if [ -n "${_chaosql_policy_rc:-}" ]; then rm -f /usr/sbin/policy-rc.d; unset _chaosql_policy_rc; fi
fi
