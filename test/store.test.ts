import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import type { RunResult } from '../src/core/train.ts';
import { MIGRATIONS, SCHEMA_VERSION } from '../src/store/migrations.ts';
import { openStore, openStoreReadonly, StoreError } from '../src/store/open.ts';
import { SqliteRunQueue } from '../src/store/run-queue.ts';
import { type SweepInput } from '../src/store/queue.ts';

const dir = mkdtempSync(join(tmpdir(), 'aimc-store-'));
let fileNo = 0;
const freshFile = (): string => join(dir, `db${fileNo++}.sqlite`);

function sweep(name: string, hashes: string[], spec = 'v1'): SweepInput {
  return {
    name,
    description: '',
    specJson: spec,
    source: `${name}.yaml`,
    runs: hashes.map((h) => ({ hash: h, configJson: `{"h":"${h}"}`, numericsVersion: 2, assignmentsJson: '{}' })),
  };
}

function result(loss: number, epochs = 2): RunResult {
  const history = Array.from({ length: epochs + 1 }, (_, e) => ({
    epoch: e,
    train_loss: loss * (epochs + 1 - e),
    test_accuracy: 0.5,
    pulses: { W: e * 10 },
  }));
  return {
    numerics_version: 2,
    config: {} as RunResult['config'],
    history,
    final: history[epochs],
    weights_digest: 'abc',
  };
}

function queueWith(hashes: string[]): { db: Database.Database; q: SqliteRunQueue; sweepId: number } {
  const db = openStore(freshFile());
  const q = new SqliteRunQueue(db);
  const { sweepId } = q.recordSweep(sweep('s', hashes), 1000);
  return { db, q, sweepId };
}

test('migrations bring a version-1 database to the current schema, keeping its data', () => {
  const file = freshFile();
  const old = new Database(file);
  old.exec(MIGRATIONS[0].sql);
  old.pragma('user_version = 1');
  old
    .prepare(
      "INSERT INTO runs (hash, config_json, numerics_version, status, attempt, created_at) VALUES ('h1', '{}', " +
        "2, 'done', 1, 5)",
    )
    .run();
  old
    .prepare(
      'INSERT INTO results (run_hash, attempt, epochs, train_loss, pulses_json, weights_digest, finished_at) ' +
        "VALUES ('h1', 1, 3, 0.25, '{}', 'd', 6)",
    )
    .run();
  old.close();

  const db = openStore(file);
  assert.equal(db.pragma('user_version', { simple: true }), SCHEMA_VERSION);
  const run = db.prepare('SELECT status, attempt, lost_leases, lease_expires_at FROM runs WHERE hash = ?').get('h1');
  assert.deepEqual(run, { status: 'done', attempt: 1, lost_leases: 0, lease_expires_at: null });
  assert.equal((db.prepare('SELECT train_loss FROM results').get() as { train_loss: number }).train_loss, 0.25);
  assert.ok(db.prepare("SELECT name FROM sqlite_master WHERE name = 'workers'").get(), 'v2 tables exist');
  db.close();
  // a second open applies nothing and keeps the data
  const again = openStore(file);
  assert.equal((again.prepare('SELECT count(*) AS n FROM runs').get() as { n: number }).n, 1);
  assert.equal(again.pragma('journal_mode', { simple: true }), 'wal');
  again.close();
});

test('migration 3 gives a version-2 database the step-mean columns; old values survive, new results store them', () => {
  const file = freshFile();
  const old = new Database(file);
  for (const m of MIGRATIONS.filter((m) => m.version <= 2)) old.exec(m.sql);
  old.pragma('user_version = 2');
  old
    .prepare(
      "INSERT INTO runs (hash, config_json, numerics_version, status, attempt, created_at) VALUES ('h1', '{}', " +
        "2, 'done', 1, 5)",
    )
    .run();
  old
    .prepare(
      'INSERT INTO results (run_hash, attempt, epochs, train_loss, weight_error, pulses_json, weights_digest, ' +
        "finished_at) VALUES ('h1', 1, 1, 0.25, 0.5, '{}', 'd', 6)",
    )
    .run();
  old
    .prepare(
      'INSERT INTO epoch_metrics (run_hash, attempt, epoch, train_loss, weight_error, pulses_json) VALUES ' +
        "('h1', 1, 1, 0.25, 0.5, '{}')",
    )
    .run();
  old.close();

  const db = openStore(file);
  assert.equal(db.pragma('user_version', { simple: true }), SCHEMA_VERSION);
  for (const table of ['results', 'epoch_metrics']) {
    const row = db
      .prepare(`SELECT train_loss, weight_error, step_loss, step_weight_error FROM ${table} WHERE run_hash = 'h1'`)
      .get();
    assert.deepEqual(row, { train_loss: 0.25, weight_error: 0.5, step_loss: null, step_weight_error: null }, table);
  }
  // a result with the step means: stored in both tables
  const q = new SqliteRunQueue(db);
  const { sweepId } = q.recordSweep(sweep('s', ['a']), 10);
  const [lease] = q.lease('w', 1, 20, 100, sweepId);
  const history = [
    { epoch: 0, train_loss: 1, weight_error: 2, pulses: {} },
    { epoch: 1, train_loss: 0.5, weight_error: 1, step_loss: 0.75, step_weight_error: 1.5, pulses: {} },
  ];
  const r: RunResult = {
    numerics_version: 2,
    config: {} as RunResult['config'],
    history,
    final: history[1],
    weights_digest: 'abc',
  };
  assert.deepEqual(q.complete('w', lease, r, 30), { accepted: true });
  assert.deepEqual(db.prepare("SELECT step_loss, step_weight_error FROM results WHERE run_hash = 'a'").get(), {
    step_loss: 0.75,
    step_weight_error: 1.5,
  });
  assert.deepEqual(
    db
      .prepare("SELECT epoch, step_loss, step_weight_error FROM epoch_metrics WHERE run_hash = 'a' ORDER BY epoch")
      .all(),
    [
      { epoch: 0, step_loss: null, step_weight_error: null },
      { epoch: 1, step_loss: 0.75, step_weight_error: 1.5 },
    ],
  );
  db.close();
});

test('databases from a newer aimc-sweep, foreign databases and missing files are refused clearly', () => {
  const newer = freshFile();
  const d = new Database(newer);
  d.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
  d.close();
  assert.throws(
    () => openStore(newer),
    (e: unknown) => e instanceof StoreError && /written by a newer aimc-sweep/.test(e.message),
  );

  const foreign = freshFile();
  const f = new Database(foreign);
  f.exec('CREATE TABLE notes (x)');
  f.close();
  assert.throws(() => openStore(foreign), /not an aimc-sweep results database/);
  assert.throws(() => openStoreReadonly(join(dir, 'nope.db')), /no results database here/);

  const old = freshFile();
  const o = new Database(old);
  o.exec(MIGRATIONS[0].sql);
  o.pragma('user_version = 1');
  o.close();
  assert.throws(() => openStoreReadonly(old), /older than .*upgrades it/);
});

test('a sweep recorded twice adds no runs; identical runs in two sweeps are stored once', () => {
  const { db, q } = queueWith(['a', 'b', 'c']);
  const again = q.recordSweep(sweep('s', ['a', 'b', 'c']), 2000);
  assert.deepEqual([again.total, again.newRuns, again.definitionChanged], [3, 0, false]);
  const other = q.recordSweep(sweep('t', ['b', 'c', 'd']), 2000);
  assert.deepEqual([other.total, other.newRuns], [3, 1]);
  assert.equal((db.prepare('SELECT count(*) AS n FROM runs').get() as { n: number }).n, 4);
  // a changed definition: membership follows it, results of runs that left stay
  const changed = q.recordSweep(sweep('s', ['a', 'e'], 'v2'), 3000);
  assert.deepEqual([changed.definitionChanged, changed.joined, changed.left, changed.total], [true, 1, 2, 2]);
  assert.equal((db.prepare('SELECT count(*) AS n FROM runs').get() as { n: number }).n, 5);
  // b, c, d are still in sweep t; nothing is in no sweep yet. Redefine t without d: d is nobody's work
  q.recordSweep(sweep('t', ['b', 'c'], 'v2'), 4000);
  const leased = q
    .lease('w', 10, 5000, 100)
    .map((l) => l.hash)
    .sort();
  assert.deepEqual(leased, ['a', 'b', 'c', 'e']);
  db.close();
});

test('leases give each run to one worker as a new attempt; results are accepted only from its holder', () => {
  const { db, q, sweepId } = queueWith(['a', 'b', 'c']);
  const w1 = q.lease('w1', 2, 10, 100, sweepId);
  assert.deepEqual(
    w1.map((l) => [l.hash, l.attempt]),
    [
      ['a', 1],
      ['b', 1],
    ],
  );
  const w2 = q.lease('w2', 5, 10, 100, sweepId);
  assert.deepEqual(
    w2.map((l) => l.hash),
    ['c'],
  );
  assert.deepEqual(q.lease('w3', 5, 10, 100, sweepId), []);

  assert.deepEqual(q.complete('w2', { hash: 'a', attempt: 1 }, result(1), 20), {
    accepted: false,
    reason: 'lease held by another worker',
  });
  assert.match(
    (q.complete('w1', { hash: 'a', attempt: 2 }, result(1), 20) as { reason: string }).reason,
    /stale attempt 2/,
  );
  assert.deepEqual(q.complete('w1', { hash: 'zzz', attempt: 1 }, result(1), 20), {
    accepted: false,
    reason: 'unknown run',
  });
  assert.match(
    (q.complete('w1', { hash: 'a', attempt: 1 }, { history: [] } as unknown as RunResult, 20) as { reason: string })
      .reason,
    /malformed/,
  );
  assert.match(
    (q.progress('w1', { hash: 'a', attempt: 1 }, { epoch: -1, train_loss: 1, pulses: {} }) as { reason: string })
      .reason,
    /malformed/,
  );

  assert.match(
    (q.complete('w1', { hash: 'a', attempt: 1 }, { ...result(1), numerics_version: 1 }, 20) as { reason: string })
      .reason,
    /numerics version 1, the run needs 2/,
  );
  assert.deepEqual(q.progress('w1', { hash: 'a', attempt: 1 }, { epoch: 0, train_loss: 9, pulses: {} }), {
    accepted: true,
  });
  assert.deepEqual(q.complete('w1', { hash: 'a', attempt: 1 }, result(1), 20), { accepted: true });
  // the same result again is a duplicate: rejected, nothing doubled
  assert.match(
    (q.complete('w1', { hash: 'a', attempt: 1 }, result(1), 21) as { reason: string }).reason,
    /run is done/,
  );
  assert.equal((db.prepare('SELECT count(*) AS n FROM results').get() as { n: number }).n, 1);
  assert.equal(
    (db.prepare("SELECT count(*) AS n FROM epoch_metrics WHERE run_hash = 'a'").get() as { n: number }).n,
    3,
  );
  assert.deepEqual(q.counts(sweepId), { queued: 0, running: 2, done: 1, failed: 0 });
  db.close();
});

test(
  'expired leases re-queue with attempt + 1, a late result of the old attempt is rejected, lost leases are ' +
    'bounded',
  () => {
    const { db, q, sweepId } = queueWith(['a', 'b']);
    q.lease('w1', 2, 0, 100, sweepId);
    assert.deepEqual(q.heartbeat('w1', [{ hash: 'a', attempt: 1 }], 50, 100), []); // a lives to 150, b expires at 100
    assert.deepEqual(q.expireLeases(120, 2), { requeued: 1, failed: 0 });
    const [b2] = q.lease('w2', 5, 130, 100, sweepId);
    assert.deepEqual([b2.hash, b2.attempt], ['b', 2]);
    // w1 comes back from the dead with b's old result, and its heartbeat learns it lost b
    assert.match(
      (q.complete('w1', { hash: 'b', attempt: 1 }, result(1), 140) as { reason: string }).reason,
      /stale attempt 1 \(current 2\)/,
    );
    assert.deepEqual(q.heartbeat('w1', [{ hash: 'b', attempt: 1 }], 140, 100), [{ hash: 'b', attempt: 1 }]);
    assert.deepEqual(q.complete('w2', { hash: 'b', attempt: 2 }, result(2), 150), { accepted: true });
    const row = db.prepare("SELECT attempt, worker FROM results WHERE run_hash = 'b'").get();
    assert.deepEqual(row, { attempt: 2, worker: 'w2' });
    // a's lease expires twice: with a bound of 2 lost leases it fails with the reason
    assert.deepEqual(q.expireLeases(200, 2), { requeued: 1, failed: 0 });
    q.lease('w3', 1, 210, 10, sweepId);
    assert.deepEqual(q.expireLeases(230, 2), { requeued: 0, failed: 1 });
    const a = db.prepare("SELECT status, attempt, error FROM runs WHERE hash = 'a'").get() as {
      status: string;
      attempt: number;
      error: string;
    };
    assert.equal(a.status, 'failed');
    assert.equal(a.attempt, 2);
    assert.match(a.error, /lease expired 2 times \(last on w3\)/);
    db.close();
  },
);

test('a non-finite metric records the run as failed with the epoch; failures and releases', () => {
  const { db, q, sweepId } = queueWith(['a', 'b', 'c']);
  q.lease('w', 3, 0, 100, sweepId);
  const nan = result(1);
  nan.history[2].train_loss = Number.NaN;
  assert.deepEqual(q.complete('w', { hash: 'a', attempt: 1 }, nan, 10), { accepted: true });
  assert.equal(q.runError('a'), 'diverged: non-finite train_loss at epoch 2');
  assert.deepEqual(q.fail('w', { hash: 'b', attempt: 1 }, 'boom', 10), { accepted: true });
  assert.equal(q.runError('b'), 'boom');
  assert.deepEqual(q.release('w', { hash: 'c', attempt: 1 }), { accepted: true });
  assert.deepEqual(q.counts(sweepId), { queued: 1, running: 0, done: 0, failed: 2 });
  // the released run is leased again as attempt 2; retry-failed re-queues the failed ones
  assert.equal(q.lease('w', 1, 20, 100, sweepId)[0].attempt, 2);
  assert.equal(q.retryFailed(sweepId), 2);
  assert.deepEqual(q.counts(sweepId), { queued: 2, running: 1, done: 0, failed: 0 });
  assert.equal(q.runError('b'), undefined);
  db.close();
});

test('the writer lock refuses a second live coordinator and is taken over from a dead one', () => {
  const { db, q } = queueWith(['a']);
  q.acquireWriterLock('host:1', 0, 1000, 'x.db', () => true);
  assert.throws(
    () => q.acquireWriterLock('host:2', 500, 1000, 'x.db', () => true),
    /in use by another coordinator \(host:1/,
  );
  q.acquireWriterLock('host:2', 500, 1000, 'x.db', () => false); // host:1 is known dead
  q.refreshWriterLock('host:2', 900);
  assert.throws(() => q.acquireWriterLock('host:3', 1800, 1000, 'x.db', () => true), /host:2/);
  // a live owner on this host is never displaced, however long since its last refresh (suspended)
  assert.throws(
    () => q.acquireWriterLock('host:3', 99_000, 1000, 'x.db', () => true),
    /host:2, a live process on this host/,
  );
  q.acquireWriterLock('host:3', 1901, 1000, 'x.db', () => undefined); // another host's: stale, not refreshed for 1 s
  q.releaseWriterLock('host:3');
  assert.equal((db.prepare('SELECT count(*) AS n FROM writer_lock').get() as { n: number }).n, 0);
  db.close();
});
