#!/usr/bin/env bash
# Verifies that the committed generated code (src/gen/) is what `npm run gen` produces from
# proto/ with the pinned buf and protoc-gen-es: regenerates into a temporary directory and diffs.
# Exit 0: current; exit 1: stale (the diff is printed; run `npm run gen` and commit).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH" # buf and the local plugin protoc-gen-es

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

buf generate --output "$tmp"
if ! diff -r -u src/gen "$tmp/src/gen"; then
  echo >&2
  echo "check-generated: src/gen/ is out of date with proto/ (diff above: committed vs regenerated)." >&2
  echo "check-generated: run 'npm run gen' and commit the result." >&2
  exit 1
fi
echo "check-generated: src/gen/ is up to date with proto/"
