#!/usr/bin/env bash
# Point go.mod at another Kubernetes release: gen-replace.sh v1.36.3
#
# k8s.io/kubernetes requires its staging modules (k8s.io/api, apiserver, ...)
# at the non-existent version v0.0.0 and maps them to ./staging in its own
# go.mod; a module that imports it must replace each of them with the
# matching v0.X.Y tag. This reads the list from k8s's go.mod as served by the
# Go module proxy (no GitHub access needed) and rewrites our replace block
# (a staging module that a newer release dropped keeps its now unused line).
# Afterwards: set KVER in build.sh, check the etcd version k8s.io/apiserver
# requires (go mod graph | grep 'k8s.io/apiserver.* go.etcd.io/etcd/server'),
# build, run the tests, commit go.mod and go.sum.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
export GOTOOLCHAIN=local
V=${1:?usage: gen-replace.sh v1.X.Y}; V=${V#v}; S="v0.${V#1.}"
MODFILE=$(go mod download -json "k8s.io/kubernetes@v$V" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
for m in $(sed -n 's|^[[:space:]]*\(k8s.io/[^ ]*\) => ./staging/src/.*|\1|p' "$MODFILE"); do
    go mod edit "-replace=$m=$m@$S"
done
go mod edit "-require=k8s.io/kubernetes@v$V"
go mod tidy
grep -c '=> k8s.io/' go.mod | sed 's/^/replace lines: /'
