#!/usr/bin/env bash
# Build a real Chaosd server binary for chaosql's tests into tests/chaosd-env/bin/chaosd.
#
# chaosd's own entry point (github.com/chaos-mesh/chaosd/cmd, a `package main`)
# is built straight from the module cache; nothing of chaosd is copied here.
# The build is skipped when bin/chaosd exists and bin/.build-hash matches the
# hash of go.mod, go.sum and this script. Prints the binary's path on stdout;
# everything else goes to stderr.
#
# Needs: Go (GOTOOLCHAIN=local is fine: chaosd v1.4.0 says `go 1.18`), gcc
# (mattn/go-sqlite3 is cgo), access to the Go module proxy for a cold build.
# Environment: CHAOSD_ENV_FORCE=1 rebuilds regardless of the hash.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"
bin="$here/bin/chaosd"
stamp="$here/bin/.build-hash"

hash="$(cat go.mod go.sum build.sh $(ls main.go 2>/dev/null) | sha256sum | cut -d' ' -f1)"
if [[ -x "$bin" && -f "$stamp" && "$(cat "$stamp")" == "$hash" && -z "${CHAOSD_ENV_FORCE:-}" ]]; then
    echo "chaosd-env: up to date ($bin)" >&2
    echo "$bin"
    exit 0
fi

export GOTOOLCHAIN="${GOTOOLCHAIN:-local}"
export CGO_ENABLED=1
export GOFLAGS="${GOFLAGS:-} -mod=readonly -buildvcs=false"

pkg=github.com/chaos-mesh/chaosd
version="$(go list -m -f '{{.Version}}' "$pkg")"
# The commit the proxy recorded for this version (Origin.Hash), if it has one.
commit="$(go mod download -json "$pkg@$version" | sed -n 's/^[[:space:]]*"Hash": "\([0-9a-f]\{40\}\)".*/\1/p' | head -n1)"
vpkg="$pkg/pkg/version"
ldflags="-s -w -X '$vpkg.gitVersion=$version' -X '$vpkg.buildDate=1970-01-01T00:00:00Z'"
if [[ -n "$commit" ]]; then
    ldflags="$ldflags -X '$vpkg.gitCommit=$commit'"
fi

mkdir -p "$here/bin"
tmp="$here/bin/.chaosd.tmp.$$"
trap 'rm -f "$tmp"' EXIT
start=$(date +%s)
echo "chaosd-env: building $pkg@$version with $(go version) ..." >&2
go build -trimpath -ldflags "$ldflags" -o "$tmp" "$pkg/cmd"
mv -f "$tmp" "$bin"
echo "$hash" > "$stamp"
echo "chaosd-env: built $bin in $(( $(date +%s) - start ))s ($(du -h "$bin" | cut -f1))" >&2
echo "$bin"
