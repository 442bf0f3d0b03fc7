#!/bin/sh
# Review a sample change to the example config repo, the way `gitops-reviewer check` reviews yours:
# copy examples/gitops-config into a scratch git repository, commit it as the base, apply
# examples/demo/change.patch (a readiness probe changed in the shared guestbook kustomize base,
# autoscaling switched off for web-prod, the postgres backups PVC deleted) to the working tree, and
# run `gitops-reviewer check` on it. Extra arguments go to `check` (e.g. --format markdown).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
reviewer=${GITOPS_REVIEWER:-"$here/../.venv/bin/gitops-reviewer"}
[ -x "$reviewer" ] || reviewer=gitops-reviewer
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -R "$here/gitops-config/." "$work/"
cd "$work"
git init -q -b main
git add -A
git -c user.name=demo -c user.email=demo@example.invalid commit -qm "base"
git apply "$here/demo/change.patch"
"$reviewer" check --repo "$work" "$@"
