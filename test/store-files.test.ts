/**
 * Files the store must not use, and must not touch: another program's SQLite database, random
 * bytes, a truncated or damaged results database, one from a newer aimc-sweep, a read-only file
 * or directory. Writing commands refuse them byte for byte unchanged (no switch to WAL);
 * reading commands exit 2 with one line naming the file; neither leaves -wal/-shm files behind.
 * Read-only cases run the CLI as an unprivileged user (uid 65534 when the tests run as root).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { withReadonlyStore } from '../src/cli/read-command.ts';
import { MIGRATIONS, SCHEMA_VERSION } from '../src/store/migrations.ts';
import { openStore, openStoreReadonly, StoreError } from '../src/store/open.ts';
import { SqliteRunQueue } from '../src/store/run-queue.ts';

const ROOT = new URL('..', import.meta.url).pathname;
const MAIN = new URL('../src/cli/main.ts', import.meta.url).pathname;
const base = mkdtempSync(join(tmpdir(), 'aimc-files-'));
chmodSync(base, 0o755);
let dirNo = 0;

/** A fresh directory holding one file made by `make`; returns the file's path. */
function inDir(name: string, make: (file: string) => void, mode = 0o755): string {
  const dir = join(base, `d${dirNo++}`);
  mkdirSync(dir);
  const file = join(dir, name);
  make(file);
  chmodSync(dir, mode);
  return file;
}

const sha = (file: string): string => createHash('sha256').update(readFileSync(file)).digest('hex');
const listing = (file: string): string[] => readdirSync(join(file, '..')).sort();

/** A results database with one sweep of three runs, one done, cleanly closed (no -wal/-shm). */
function resultsDb(file: string): void {
  const db = openStore(file);
  const q = new SqliteRunQueue(db);
  const runs = ['a', 'b', 'c'].map((h) => ({
    hash: h.repeat(64),
    configJson: `{"seed":"${h}"}`,
    numericsVersion: 3,
    assignmentsJson: `{"seed":"${h}"}`,
  }));
  const { sweepId } = q.recordSweep({ name: 'files', description: '', specJson: '{}', source: 'files.yaml', runs }, 1);
  const [lease] = q.lease('w', 1, 2, 1000, sweepId);
  const history = [0, 1].map((epoch) => ({ epoch, train_loss: 1, weight_error: 0.5, pulses: {} }));
  q.complete('w', lease, { numerics_version: 3, history, weights_digest: 'd' }, 3);
  db.close();
}

function foreign(wal: boolean): (file: string) => void {
  return (file) => {
    const d = new Database(file);
    if (wal) d.pragma('journal_mode = WAL');
    d.exec("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT); INSERT INTO notes (body) VALUES ('keep me')");
    d.close();
  };
}

const PAGE = 4096;
const KINDS: Record<string, (file: string) => void> = {
  'random bytes': (file) => writeFileSync(file, randomBytes(3 * PAGE)),
  'truncated mid-page': (file) => {
    resultsDb(file);
    truncateSync(file, 2 * PAGE + 100);
  },
  'truncated at a page boundary': (file) => {
    resultsDb(file);
    truncateSync(file, 2 * PAGE);
  },
  "another program's database": foreign(false),
  "another program's WAL database": foreign(true),
  'a newer schema': (file) => {
    resultsDb(file);
    const d = new Database(file);
    d.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    d.close();
  },
};

test('writing: every file the store refuses stays byte-identical, in its journal mode, with nothing beside it', () => {
  for (const [kind, make] of Object.entries(KINDS)) {
    const file = inDir('app.db', make);
    const [hash, files] = [sha(file), listing(file)];
    assert.throws(
      () => openStore(file),
      (e: unknown) => e instanceof StoreError && e.message.startsWith(`${file}: `) && !e.message.includes('\n'),
      kind,
    );
    assert.equal(sha(file), hash, `${kind}: bytes unchanged`);
    assert.deepEqual(listing(file), files, `${kind}: nothing left beside it`);
  }
});

test('reading: every file the store refuses is a one-line StoreError and leaves nothing behind', () => {
  const kinds: Record<string, (file: string) => void> = {
    ...KINDS,
    'an older schema': (file) => {
      const d = new Database(file);
      d.exec(MIGRATIONS[0].sql);
      d.pragma('user_version = 1');
      d.close();
    },
    'an empty file': (file) => writeFileSync(file, ''),
    'an empty SQLite database': (file) => new Database(file).close(),
  };
  for (const [kind, make] of Object.entries(kinds)) {
    const file = inDir('results.db', make);
    const [hash, files] = [sha(file), listing(file)];
    assert.throws(
      () => openStoreReadonly(file),
      (e: unknown) => e instanceof StoreError && e.message.startsWith(`${file}: `) && !e.message.includes('\n'),
      kind,
    );
    assert.equal(sha(file), hash, `${kind}: bytes unchanged`);
    assert.deepEqual(listing(file), files, `${kind}: nothing left beside it`);
  }
  // a directory given as --db
  const dir = inDir('sub', (f) => mkdirSync(f));
  assert.throws(() => openStoreReadonly(dir), /is a directory/);
  assert.throws(() => openStore(dir), /is a directory/);
});

/** A results database whose pages after the first (the header and schema) are garbage. */
function damaged(file: string): void {
  resultsDb(file);
  const bytes = readFileSync(file);
  randomBytes(bytes.length - PAGE).copy(bytes, PAGE);
  writeFileSync(file, bytes);
}

test('reading a database damaged past its header: a one-line error naming the file, no -wal/-shm left', () => {
  const file = inDir('results.db', damaged);
  const files = listing(file);
  assert.throws(
    () => withReadonlyStore(file, (db) => db.prepare('SELECT count(*) FROM runs').get()),
    (e: unknown) =>
      e instanceof Error &&
      e.name === 'UsageError' &&
      e.message.startsWith(`${file}: damaged or not an SQLite database`),
  );
  assert.deepEqual(listing(file), files);
});

// ---- the commands, in child processes ----------------------------------------------------

const asRoot = process.getuid?.() === 0;
const UNPRIVILEGED = asRoot ? { uid: 65534, gid: 65534 } : {};

function cli(args: string[], unprivileged = false): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', MAIN, ...args], {
    encoding: 'utf8',
    timeout: 120_000,
    cwd: ROOT,
    ...(unprivileged ? UNPRIVILEGED : {}),
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Exit 2 and exactly one line, naming the file, no JavaScript stack. */
function refusedInOneLine(r: { code: number | null; stderr: string }, file: string, what: RegExp, why: string): void {
  assert.equal(r.code, 2, `${why}: ${r.stderr}`);
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `${why}: one line, got:\n${r.stderr}`);
  assert.ok(lines[0].startsWith(`aimc-sweep: ${file}: `), `${why}: names the file: ${lines[0]}`);
  assert.match(lines[0], what, why);
}

const sweepFile = inDir('tiny.yaml', (f) =>
  writeFileSync(f, 'name: tiny\nbase: { task: { in_size: 2, out_size: 2, n_samples: 4 }, epochs: 1 }\n'),
);

test("run on another program's SQLite file refuses it and leaves it byte-identical (still in rollback mode)", () => {
  const file = inDir('app.db', foreign(false));
  const [hash, files] = [sha(file), listing(file)];
  const header = readFileSync(file).subarray(18, 20);
  assert.deepEqual([...header], [1, 1], 'rollback journal mode');
  const r = cli(['run', sweepFile, '--db', file]);
  refusedInOneLine(r, file, /not an aimc-sweep results database \(it has tables but no schema version\)/, 'run');
  assert.equal(sha(file), hash);
  assert.deepEqual([...readFileSync(file).subarray(18, 20)], [1, 1], 'not switched to WAL');
  assert.deepEqual(listing(file), files);
});

test(
  'status, query, export and table on unusable databases: exit 2, one line naming the file, nothing left ' + 'behind',
  () => {
    const cases: [string[], (f: string) => void, RegExp][] = [
      [['status'], KINDS['random bytes'], /not an SQLite database/],
      [['query', 'SELECT count(*) FROM runs'], KINDS['truncated mid-page'], /truncated or damaged/],
      [['export', '--sweep', 'files'], KINDS["another program's WAL database"], /not an aimc-sweep results database/],
      [['table', '--sweep', 'files'], KINDS['a newer schema'], /written by a newer aimc-sweep/],
      [['query', 'SELECT count(*) FROM runs'], damaged, /damaged or not an SQLite database/],
      [['status'], KINDS['truncated at a page boundary'], /truncated database/],
    ];
    for (const [args, make, what] of cases) {
      const file = inDir('results.db', make);
      const [hash, files] = [sha(file), listing(file)];
      refusedInOneLine(cli([...args, '--db', file]), file, what, args[0]);
      assert.equal(sha(file), hash, args[0]);
      assert.deepEqual(listing(file), files, `${args[0]}: nothing left beside it`);
    }
  },
);

test(
  'read-only files and directories: writing commands refuse in one line, reading works where SQLite can, nothing ' +
    'is left behind',
  () => {
    // run on a read-only results database: refused before anything tries to write (was a stack trace from
    // acquireWriterLock)
    const ro = inDir(
      'results.db',
      (f) => {
        resultsDb(f);
        chmodSync(f, 0o444);
      },
      0o777,
    );
    let [hash, files] = [sha(ro), listing(ro)];
    refusedInOneLine(
      cli(['run', sweepFile, '--db', ro], true),
      ro,
      /cannot write: the file is read-only for this user/,
      'run, read-only file',
    );
    assert.equal(sha(ro), hash);
    assert.deepEqual(listing(ro), files);
    // reading it works, and leaves no -wal/-shm of this user beside a file it cannot write
    const status = cli(['status', '--db', ro], true);
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /files +3 +2 +0 +1 +0/);
    assert.deepEqual(listing(ro), files);

    // a results database in a read-only directory: run refuses, and so does reading (SQLite needs its -shm there)
    const rodir = inDir(
      'results.db',
      (f) => {
        resultsDb(f);
        chmodSync(f, 0o666);
      },
      0o555,
    );
    [hash, files] = [sha(rodir), listing(rodir)];
    refusedInOneLine(
      cli(['run', sweepFile, '--db', rodir], true),
      rodir,
      /cannot write: its directory .* is not writable/,
      'run, read-only directory',
    );
    refusedInOneLine(
      cli(['status', '--db', rodir], true),
      rodir,
      /cannot read: its directory is read-only/,
      'status, read-only directory',
    );
    assert.equal(sha(rodir), hash);
    assert.deepEqual(listing(rodir), files);
  },
);
