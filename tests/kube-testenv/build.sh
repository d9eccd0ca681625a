#!/usr/bin/env bash
# Build the kube-testenv binary (embedded etcd + real kube-apiserver) into
# tests/kube-testenv/bin/ and print its path on stdout.
#
# The binary is named after a hash of main.go, go.mod, go.sum and the Go
# version, so an unchanged source tree is never rebuilt. When a build does
# run, its wall time, the module/build cache sizes and free disk space are
# printed on stderr (a cold build on 2 cores takes minutes).
#
#   tests/kube-testenv/build.sh            # build if needed, print path
#   KUBE_TESTENV_FORCE=1 .../build.sh      # rebuild even if the hash matches
#
# Needs Go >= 1.26 on PATH and the Go module proxy; never downloads a
# toolchain (GOTOOLCHAIN=local).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$here"

export GOTOOLCHAIN=local
export CGO_ENABLED=0
export GOFLAGS="${GOFLAGS:+$GOFLAGS }-mod=readonly"

KVER=v1.36.3   # keep in step with k8s.io/kubernetes in go.mod

goversion=$(go env GOVERSION)
key=$(cat main.go go.mod go.sum | sha256sum | cut -c1-16)-$goversion
bin="$here/bin/kube-testenv-$key"

mkdir -p "$here/bin"
exec 9>"$here/bin/.build.lock"
flock 9   # one build at a time, e.g. parallel pytest sessions

if [[ -x "$bin" && -z "${KUBE_TESTENV_FORCE:-}" ]]; then
    echo "$bin"
    exit 0
fi

minor=${KVER#v1.}; minor=${minor%%.*}
echo "kube-testenv: building $bin ($goversion, k8s $KVER) ..." >&2
start=$(date +%s)
go build -trimpath \
    -ldflags "-s -w -X k8s.io/component-base/version.gitVersion=$KVER -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor" \
    -o "$bin.tmp" .
mv -f "$bin.tmp" "$bin"
secs=$(( $(date +%s) - start ))

# keep only the current binary (each is ~100 MB)
for old in "$here"/bin/kube-testenv-*; do
    [[ "$old" == "$bin" ]] || rm -f "$old"
done
ln -sfn "$(basename "$bin")" "$here/bin/kube-testenv"

{
    echo "kube-testenv: build took ${secs}s"
    echo "kube-testenv: binary $(du -h "$bin" | cut -f1)"
    echo "kube-testenv: GOMODCACHE $(du -sh "$(go env GOMODCACHE)" 2>/dev/null | cut -f1) ($(go env GOMODCACHE))"
    echo "kube-testenv: GOCACHE    $(du -sh "$(go env GOCACHE)" 2>/dev/null | cut -f1) ($(go env GOCACHE))"
    df -h "$here" | tail -1 | awk '{print "kube-testenv: disk free " $4 " of " $2}'
} >&2
echo "$bin"
