/**
 * The single writer, in-process with injected clocks and liveness: a live owner is never
 * displaced, a dead or silent one is; a holder whose lock was taken over notices before its next
 * write (fencing token) and writes nothing more; write failures the disk causes become one-line
 * errors, stop the scheduler and leave the database as it was. The same in real processes
 * (SIGSTOP, a full disk): test/writer-fencing.test.ts.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { runEmbedded } from '../src/coordinator/embedded.ts';
import { Scheduler } from '../src/coordinator/scheduler.ts';
import type { EpochMetrics, RunResult } from '../src/core/train.ts';
import { StoreError, StoreFailure, WriterLockLost } from '../src/store/errors.ts';
import { type HostProbe, ownerLiveness, type ProcessStat } from '../src/store/host.ts';
import { MIGRATIONS } from '../src/store/migrations.ts';
import { openStore } from '../src/store/open.ts';
import { SqliteRunQueue } from '../src/store/run-queue.ts';
import { type SweepInput } from '../src/store/queue.ts';
import { injectWriteFault, localOwnerAlive, lockHeld, processIdentity } from '../src/store/writer.ts';
import type { SimulationPool } from '../src/worker/pool.ts';

const dir = mkdtempSync(join(tmpdir(), 'aimc-lock-'));
let fileNo = 0;
const freshFile = (): string => join(dir, `db${fileNo++}.sqlite`);

function sweep(hashes: string[]): SweepInput {
  return {
    name: 's',
    description: '',
    specJson: '{}',
    source: 's.yaml',
    runs: hashes.map((h) => ({ hash: h, configJson: `{"h":"${h}"}`, numericsVersion: 2, assignmentsJson: '{}' })),
  };
}

function history(epochs: number): EpochMetrics[] {
  return Array.from({ length: epochs + 1 }, (_, e) => ({ epoch: e, train_loss: 1 / (e + 1), pulses: { W: e } }));
}

function result(epochs = 2): RunResult {
  const h = history(epochs);
  return {
    numerics_version: 2,
    config: {} as RunResult['config'],
    history: h,
    final: h[epochs],
    weights_digest: 'abc',
  };
}

function count(db: Database.Database, sql: string): number {
  return (db.prepare(sql).get() as { n: number }).n;
}

const FAR = 'far-away.example';

test(
  'a live owner on this host is never displaced; a dead one at once; one on another host after its heartbeat ' +
    'goes stale',
  () => {
    const file = freshFile();
    const db = openStore(file);
    const q = new SqliteRunQueue(db);
    q.acquireWriterLock('here:1', 0, 15_000, file, () => true);
    const other = new SqliteRunQueue(openStore(file));
    // alive on this host (a suspended process is alive): refused an hour later still
    assert.throws(
      () => other.acquireWriterLock('here:2', 3_600_000, 15_000, file, () => true),
      /in use by another coordinator \(here:1, a live process on this host; active 3600 s ago\)/,
    );
    // gone: taken over at once
    const took = other.acquireWriterLock('here:2', 1000, 15_000, file, (o) => (o === 'here:1' ? false : undefined));
    assert.deepEqual(took.tookOver, { owner: 'here:1', idleMs: 1000, why: 'its process is gone' });
    // another host's owner: its heartbeat decides
    const third = new SqliteRunQueue(openStore(file));
    assert.throws(
      () => third.acquireWriterLock(`${FAR}:3`, 15_999, 15_000, file, () => undefined),
      /in use by another coordinator \(here:2, active 15 s ago\)/,
    );
    const late = third.acquireWriterLock(`${FAR}:3`, 16_000, 15_000, file, () => undefined);
    assert.equal(late.tookOver?.why, 'no heartbeat for 15 s');
    db.close();
  },
);

test(
  'a holder whose lock was taken over notices before its next write, names the new owner and writes ' + 'nothing more',
  () => {
    const file = freshFile();
    const dbA = openStore(file);
    const a = new SqliteRunQueue(dbA);
    const { sweepId } = a.recordSweep(sweep(['r1', 'r2', 'r3']), 0);
    a.acquireWriterLock(`${FAR}:1`, 0, 15_000, file, () => undefined);
    const [lease] = a.lease('wA', 1, 0, 60_000, sweepId);
    assert.deepEqual(a.progress('wA', lease, history(1)[0]), { accepted: true });

    // A is suspended; B, on another host, sees A's heartbeat stale and takes over
    const dbB = openStore(file);
    const b = new SqliteRunQueue(dbB);
    assert.equal(b.acquireWriterLock('near:2', 20_000, 15_000, file, () => undefined).tookOver?.owner, `${FAR}:1`);
    assert.equal(b.requeueOrphans(), 1);
    const snapshot = (): unknown => dbB.prepare('SELECT hash, status, attempt, worker FROM runs ORDER BY hash').all();
    const before = snapshot();
    const metricsBefore = count(dbB, 'SELECT count(*) AS n FROM epoch_metrics');

    // A resumes: every kind of write is refused before it happens, naming B
    const lostToB = (e: unknown): boolean =>
      e instanceof WriterLockLost &&
      e.newOwner === 'near:2' &&
      new RegExp(`${file}: ${FAR}:1 lost the writer lock to near:2`).test(e.message);
    assert.throws(() => a.progress('wA', lease, history(1)[1]), lostToB);
    assert.throws(() => a.complete('wA', lease, result(), 21_000), lostToB);
    assert.throws(() => a.lease('wA', 2, 21_000, 60_000, sweepId), lostToB);
    assert.throws(() => a.refreshWriterLock(`${FAR}:1`, 21_000), lostToB);
    assert.throws(() => a.recordSweep(sweep(['r4']), 21_000), lostToB);
    assert.equal(a.releaseWriterLock(`${FAR}:1`), false, "A's release leaves B's lock alone");
    assert.deepEqual(snapshot(), before);
    assert.equal(count(dbB, 'SELECT count(*) AS n FROM epoch_metrics'), metricsBefore);
    assert.deepEqual(dbB.prepare('SELECT owner FROM writer_lock').all(), [{ owner: 'near:2' }]);

    // B writes on; after B releases, A still cannot write (its token is gone for good)
    assert.equal(b.lease('wB', 3, 21_000, 60_000, sweepId).length, 3);
    assert.equal(b.releaseWriterLock('near:2'), true);
    assert.throws(() => a.lease('wA', 1, 22_000, 60_000, sweepId), WriterLockLost);
    dbA.close();
    dbB.close();
  },
);

test(
  'the liveness of owners on this host: its pid, stopped or not, and its start time; zombies and reused pids are ' +
    'dead',
  async () => {
    const me = processIdentity();
    assert.equal(me.owner, `${hostname()}:${process.pid}`);
    assert.equal(localOwnerAlive(me.owner, me.started), true);
    assert.equal(localOwnerAlive(`${FAR}:${process.pid}`, ''), undefined, 'another host: only the heartbeat can tell');
    if (me.started !== '')
      assert.equal(localOwnerAlive(me.owner, `${me.started}0`), false, 'the pid now runs another process');
    const gone = spawnSync(process.execPath, ['-e', '']).pid;
    assert.equal(localOwnerAlive(`${hostname()}:${gone}`, ''), false);
    assert.equal(localOwnerAlive(`${hostname()}:junk`, ''), false);

    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
    try {
      await new Promise((resolve) => child.once('spawn', resolve));
      child.kill('SIGSTOP');
      const owner = `${hostname()}:${child.pid}`;
      assert.equal(localOwnerAlive(owner, ''), true, 'a suspended process is alive');
      if (me.started !== '') {
        // give /proc a moment to show the stopped state (polled: the signal is delivered asynchronously)
        const deadline = Date.now() + 20_000;
        while (
          !/stopped/.test(lockHeld({ owner, refreshed_at: 0 }, 60_000, 15_000, localOwnerAlive) ?? '') &&
          Date.now() < deadline
        )
          await new Promise((r) => setTimeout(r, 20));
        assert.match(
          lockHeld({ owner, refreshed_at: 0 }, 60_000, 15_000, localOwnerAlive) ?? '',
          new RegExp(
            `a live process on this host, stopped \\(suspended\\): resume it \\(fg, or kill -CONT ${child.pid}\\)`,
          ),
        );
      }
    } finally {
      child.kill('SIGKILL');
    }
  },
);

test(
  'the OS is asked through a HostProbe: a fake machine has a reused pid, a zombie, a suspended owner and ' + 'no /proc',
  () => {
    const procs = new Map<number, ProcessStat>([
      [10, { state: 'S', started: '100' }],
      [11, { state: 'Z', started: '5' }],
      [12, { state: 'T', started: '7' }],
    ]);
    const host: HostProbe = {
      hostname: () => 'box',
      pid: 10,
      exists: (pid) => procs.has(pid),
      stat: (pid) => procs.get(pid),
    };
    assert.deepEqual(processIdentity(host), { owner: 'box:10', started: '100' });
    const alive = ownerLiveness(host);
    assert.equal(alive('box:10', '100'), true);
    assert.equal(alive('box:10', '99'), false, 'the pid now runs another process');
    assert.equal(alive('box:11', ''), false, 'a zombie');
    assert.equal(alive('box:13', ''), false, 'gone');
    assert.equal(alive('box:junk', ''), false);
    assert.equal(alive(`${FAR}:10`, ''), undefined, 'another host: only the heartbeat can tell');
    assert.equal(
      lockHeld({ owner: 'box:12', refreshed_at: 0 }, 5_000, 15_000, alive, host),
      'box:12, a live process on this host, stopped (suspended): resume it (fg, or kill -CONT 12) or end it; ' +
        'active 5 s ago',
    );
    assert.equal(
      lockHeld({ owner: `${FAR}:1`, refreshed_at: 0 }, 15_000, 15_000, alive, host),
      undefined,
      'silent for the stale limit',
    );
    assert.equal(ownerLiveness({ ...host, stat: () => undefined })('box:11', ''), true, 'no /proc: signal 0 decides');

    // a scheduler asks the OS only through its host: the suspended owner is named as such
    const file = freshFile();
    const dbA = openStore(file);
    const a = new Scheduler(dbA, { file, host, identity: { owner: 'box:12', started: '7' } });
    const dbB = openStore(file);
    assert.throws(
      () => new Scheduler(dbB, { file, host }),
      (e: unknown) =>
        e instanceof StoreError &&
        e.message.startsWith(
          `${file}: in use by another coordinator (box:12, a live process on this host, stopped (suspended): ` +
            `resume it (fg, or kill -CONT 12)`,
        ),
    );
    a.close();
    const b = new Scheduler(dbB, { file, host });
    assert.equal(b.owner, 'box:10');
    b.close();
    dbA.close();
    dbB.close();
  },
);

/** A pool that runs nothing: each run reports its epochs when the test says, then its result. */
function scriptedPool(): { pool: SimulationPool; epoch(): void; started: Promise<void> } {
  let onEpoch: ((m: EpochMetrics) => void) | undefined;
  let startedResolve: () => void = () => {};
  const started = new Promise<void>((r) => (startedResolve = r));
  const pool = {
    threads: 1,
    run: (_hash: string, _config: string, cb: (m: EpochMetrics) => void, signal: AbortSignal) =>
      new Promise<RunResult>((_resolve, reject) => {
        onEpoch = cb;
        startedResolve();
        signal.addEventListener('abort', () => reject(new Error('aborted')));
      }),
    destroy: async () => {},
  } as unknown as SimulationPool;
  return { pool, epoch: () => onEpoch?.(history(1)[1]), started };
}

test(
  'embedded mode: an epoch reported after the lock was taken over ends the sweep with WriterLockLost, not an ' +
    'uncaught SqliteError',
  async () => {
    const file = freshFile();
    let clock = 0;
    const dbA = openStore(file);
    const a = new Scheduler(dbA, {
      file,
      now: () => clock,
      identity: { owner: `${FAR}:1`, started: '' },
      ownerAlive: () => undefined,
    });
    const { sweepId } = a.record(sweep(['r1', 'r2']));
    const { pool, epoch, started } = scriptedPool();
    const outcome = runEmbedded({ scheduler: a, sweepId, pool });
    await started;

    clock = 60_000; // A was suspended for a minute; B takes over
    const dbB = openStore(file);
    const b = new Scheduler(dbB, {
      file,
      now: () => clock,
      identity: { owner: 'near:2', started: '' },
      ownerAlive: () => undefined,
    });
    assert.equal(b.tookOver?.owner, `${FAR}:1`);
    epoch(); // A resumes: its thread reports an epoch
    await assert.rejects(
      outcome,
      (e: unknown) => e instanceof WriterLockLost && /lost the writer lock to near:2/.test(e.message),
    );
    assert.ok(a.failed.aborted && a.failed.reason instanceof WriterLockLost);
    assert.equal(count(dbB, 'SELECT count(*) AS n FROM epoch_metrics'), 0, 'the late epoch was not stored');
    a.close();
    assert.deepEqual(
      dbB.prepare('SELECT owner FROM writer_lock').all(),
      [{ owner: 'near:2' }],
      "closing A leaves B's lock",
    );
    b.close();
    dbA.close();
    dbB.close();
  },
);

test("the lock's heartbeat notices a takeover even when nothing else writes", () => {
  const file = freshFile();
  let clock = 0;
  const dbA = openStore(file);
  const a = new Scheduler(dbA, {
    file,
    now: () => clock,
    identity: { owner: `${FAR}:1`, started: '' },
    ownerAlive: () => undefined,
  });
  clock = 10_000;
  a.refreshLock();
  assert.equal(a.failed.aborted, false);
  const dbB = openStore(file);
  assert.throws(
    () =>
      new Scheduler(dbB, {
        file,
        now: () => clock + 14_999,
        identity: { owner: 'near:2', started: '' },
        ownerAlive: () => undefined,
      }),
    StoreError,
  );
  const b = new Scheduler(dbB, {
    file,
    now: () => clock + 15_000,
    identity: { owner: 'near:2', started: '' },
    ownerAlive: () => undefined,
  });
  a.refreshLock();
  assert.ok(a.failed.reason instanceof WriterLockLost);
  assert.match((a.failed.reason as Error).message, /lost the writer lock to near:2/);
  b.close();
  a.close();
  dbA.close();
  dbB.close();
});

test(
  'a write the disk refuses: one-line StoreFailure, nothing half-written, the scheduler stops writing and ' +
    'releases its lock',
  () => {
    const file = freshFile();
    const db = openStore(file);
    const s = new Scheduler(db, { file });
    const { sweepId } = s.record(sweep(['r1', 'r2']));
    const [l1, l2] = s.lease('w', 2, sweepId);
    assert.deepEqual(s.complete('w', l1, result()), { accepted: true });
    injectWriteFault((what) => {
      if (what === 'complete') throw new Database.SqliteError('database or disk is full', 'SQLITE_FULL');
    });
    try {
      assert.throws(
        () => s.complete('w', l2, result()),
        (e: unknown) =>
          e instanceof StoreFailure &&
          e.message === `${file}: database or disk is full; free space and run the same command to resume` &&
          !e.stack?.includes('\n'),
      );
    } finally {
      injectWriteFault(undefined);
    }
    assert.ok(s.failed.reason instanceof StoreFailure);
    assert.throws(() => s.lease('w', 1, sweepId), StoreFailure, 'no write after a fatal failure');
    s.close();
    const check = new Database(file, { readonly: true });
    assert.deepEqual(check.prepare('SELECT hash, status FROM runs ORDER BY hash').all(), [
      { hash: 'r1', status: 'done' },
      { hash: 'r2', status: 'running' },
    ]);
    assert.equal(count(check, 'SELECT count(*) AS n FROM results'), 1);
    assert.equal(count(check, 'SELECT count(*) AS n FROM epoch_metrics'), 3, "only r1's history");
    assert.equal(count(check, 'SELECT count(*) AS n FROM writer_lock'), 0, 'lock released');
    check.close();
    db.close();
  },
);

test('SQLite errors of writes become one-line errors naming the file: read-only exit 2, I/O and locks exit 1', () => {
  const file = freshFile();
  const db = openStore(file);
  const q = new SqliteRunQueue(db);
  const cases: [string, RegExp, new (...a: never[]) => Error][] = [
    ['SQLITE_READONLY', /cannot write: the file is read-only for this user/, StoreError],
    ['SQLITE_READONLY_DIRECTORY', /cannot write: its directory is read-only/, StoreError],
    ['SQLITE_IOERR_WRITE', /disk I\/O error .*run the same command to resume/, StoreFailure],
    ['SQLITE_BUSY', /database is locked by another program/, StoreFailure],
    ['SQLITE_CORRUPT', /damaged or not an SQLite database/, StoreError],
  ];
  for (const [code, message, type] of cases) {
    injectWriteFault(() => {
      throw new Database.SqliteError('boom', code);
    });
    try {
      assert.throws(
        () => q.recordSweep(sweep(['x']), 0),
        (e: unknown) => e instanceof type && e.message.startsWith(`${file}: `) && message.test(e.message),
        code,
      );
    } finally {
      injectWriteFault(undefined);
    }
  }
  assert.equal(count(db, 'SELECT count(*) AS n FROM runs'), 0);
  db.close();
});

test('a database an older aimc-sweep is writing is not migrated under it: refused, untouched', () => {
  const file = freshFile();
  const old = new Database(file);
  for (const m of MIGRATIONS.filter((m) => m.version <= 3)) old.exec(m.sql);
  old.pragma('user_version = 3');
  // the parent of this test process: alive on this host, as a live coordinator would be
  old
    .prepare('INSERT INTO writer_lock (id, owner, acquired_at, refreshed_at) VALUES (1, ?, 0, 0)')
    .run(`${hostname()}:${process.ppid}`);
  old.close();
  const sha = (): string => createHash('sha256').update(readFileSync(file)).digest('hex');
  const before = sha();
  assert.throws(
    () => openStore(file),
    new RegExp(
      `in use by another coordinator \\(${hostname()}:${process.ppid}, a live process on this host.*stop it ` +
        `before this aimc-sweep upgrades the schema \\(version 3 to \\d+\\)`,
    ),
  );
  assert.equal(sha(), before);
  // its owner gone: migrated, and the lock taken over as usual
  const d = new Database(file);
  d.prepare('UPDATE writer_lock SET owner = ?').run(`${FAR}:1`);
  d.close();
  const db = openStore(file);
  const s = new Scheduler(db, { file });
  assert.equal(s.tookOver?.owner, `${FAR}:1`);
  s.close();
  db.close();
});
