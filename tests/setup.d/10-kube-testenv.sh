# The real kube-apiserver (embedded etcd) for tests/kubeenv.py, built from Go modules.
# Sourced by scripts/test; a no-op when bin/ already holds the binary for this source hash.
# A cold build on 2 CPUs takes ~5 min and ~3 GB of Go caches.
if command -v go >/dev/null 2>&1; then
  bash tests/kube-testenv/build.sh >/dev/null || { echo "kube-testenv: build failed" >&2; return 1; }
else
  echo "kube-testenv: no Go toolchain on PATH (install Go >= 1.26)" >&2
  return 1
fi
