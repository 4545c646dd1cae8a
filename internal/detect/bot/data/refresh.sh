#!/bin/sh
# refresh.sh VERSION: replace crawler-user-agents.json and LICENSE with those of the npm
# package crawler-user-agents@VERSION. Not part of the build; see README.md.
set -eu
version=${1:?usage: refresh.sh VERSION}
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "crawler-user-agents@$version" >/dev/null && tar xzf ./*.tgz)
cp "$tmp/package/crawler-user-agents.json" "$here/crawler-user-agents.json"
cp "$tmp/package/LICENSE" "$here/LICENSE"
echo "tarball sha1: $(npm view "crawler-user-agents@$version" dist.shasum)"
sha256sum "$here/crawler-user-agents.json"
echo "now update README.md and run: go test ./internal/detect/bot/..."
