#!/usr/bin/env bash
# The package as a user installs it (README, "The aimc-sweep command"): `npm pack` of this
# checkout's build, `npm install -g` of the tarball into a scratch prefix, then the installed
# `aimc-sweep` run from outside the repository: --help, `expand` on a shipped sweep, a simulation
# (the WebAssembly kernel and the data packages shipped), a tiny sweep into a database, and the
# commands it prints named the way it was started.
#
#   bash test/pack.sh        # or: npm run test:pack (CI: .ci/run, after npm ci)
#
# Needs dist/ and build/kernels.wasm (npm ci or npm run build) and the npm registry or its cache
# for the dependencies; installing builds better-sqlite3 (a few minutes on 2 cores where no
# prebuilt binary can be downloaded). Exit 0: passed; 1: failed (the step and its output).
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
T0=$(date +%s)
log() { printf '[pack.sh %3ds] %s\n' "$(($(date +%s) - T0))" "$*"; }
fail() {
  log "FAIL: $*"
  exit 1
}

for f in dist/src/cli/main.js dist/workers/simulate.js build/kernels.wasm; do
  [[ -f $REPO/$f ]] || fail "$f is missing: run npm ci (or npm run build) first"
done

TMP=$(mktemp -d /tmp/aimc-pack.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
PREFIX=$TMP/prefix
WORK=$TMP/work # outside the repository: no package.json above it
mkdir -p "$WORK"

# --ignore-scripts: `prepare` would rebuild what npm ci just built
tarball=$(cd "$REPO" && npm pack --ignore-scripts --silent --pack-destination "$TMP")
[[ -f $TMP/$tarball ]] || fail "npm pack wrote no tarball"
listing=$(tar -tzf "$TMP/$tarball")
for f in package/dist/src/cli/main.js package/dist/workers/simulate.js package/build/kernels.wasm package/sweeps/quickstart.yaml package/README.md; do
  grep -qx "$f" <<<"$listing" || fail "the tarball lacks ${f#package/}"
done
if grep -q '^package/src/\|^package/test/' <<<"$listing"; then fail "the tarball ships src/ or test/ (package.json files)"; fi
log "npm pack: $tarball, $(wc -l <<<"$listing") files"

(cd "$WORK" && npm install -g --prefix "$PREFIX" --prefer-offline --no-audit --no-fund --loglevel=error "$TMP/$tarball") >"$TMP/install.log" 2>&1 ||
  { cat "$TMP/install.log"; fail "npm install -g of the tarball failed"; }
BIN=$PREFIX/bin/aimc-sweep
[[ -x $BIN ]] || fail "no executable $BIN after npm install -g"
log "npm install -g --prefix <tmp>: $BIN"

cd "$WORK"
run() { # run NAME CMD...: its output in $TMP/NAME.out, fails on a non-zero exit
  local name=$1
  shift
  "$@" >"$TMP/$name.out" 2>&1 || { cat "$TMP/$name.out"; fail "$name: exit $?"; }
}
expect() { # expect NAME REGEX
  grep -Eq -- "$2" "$TMP/$1.out" || { cat "$TMP/$1.out"; fail "$1: no line matches /$2/"; }
}

run help "$BIN" --help
expect help 'aimc-sweep run <sweep>'
SHIPPED=$PREFIX/lib/node_modules/aimc-sweep/sweeps
run expand "$BIN" expand "$SHIPPED/quickstart.yaml"
expect expand '^quickstart: 22 runs \(24 combinations, 0 excluded, 2 identical merged\)$'
expect expand '^  [0-9a-f]{12}  seed=1 algorithm=sgd$'
run simulate "$BIN" simulate --set task.kind=mnist --set task.train_size=200 --set task.test_size=100 --set epochs=1 --set algorithm=tiki-taka
expect simulate '^weights digest [0-9a-f]{16}, '
printf 'name: packed\nbase: { algorithm: sgd, epochs: 2, task: { in_size: 4, out_size: 2, n_samples: 10 } }\ngrid: { seed: [1, 2], lr: [0.01, 1000] }\n' >packed.yaml
run dry "$BIN" run packed.yaml --dry-run
expect dry '^packed: 4 runs, 4 to compute'
[[ ! -e results.db ]] || fail "run --dry-run wrote results.db"
run sweep "$BIN" run packed.yaml --threads 1
expect sweep '^\[4/4\] '
# the hint for the failed (diverged) runs names the installed command: on the PATH, its bare name
expect sweep "failed; see: $BIN query "
PATH="$PREFIX/bin:$PATH" run sweep2 aimc-sweep run packed.yaml --retry-failed --threads 1
expect sweep2 "failed; see: aimc-sweep query "
log "PASS in $(($(date +%s) - T0)) s"
