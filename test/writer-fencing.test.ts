/**
 * The single writer with real `run` processes: a run suspended with SIGSTOP while another one
 * starts on the same database, and a disk that fills up mid-sweep. What must hold: at most one
 * process writes at any moment, the loser of the lock exits 2 naming the owner (no SqliteError,
 * no stack trace), every run ends done exactly once; a full disk is one line, exit 1, the lock
 * released and the results intact, and the same command resumes.
 *
 * Nothing here waits a fixed time: each step polls the database for the state it needs (with a
 * deadline), the suspended owner's lock is made to look stale by rewriting it rather than by
 * waiting 15 s, and the owner B is suspended too while A resumes, so A meets B's lock whatever
 * the speed of the machine. Children are killed in `finally`.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';

const MAIN = new URL('../src/cli/main.ts', import.meta.url).pathname;
const FULL_DISK = new URL('./fixtures/full-disk.mjs', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'aimc-fence-'));
const HOST = hostname();

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}
interface Child {
  proc: ChildProcess;
  pid: number;
  exited: Promise<Exit>;
}

const children: ChildProcess[] = [];

function start(args: string[], options: { preload?: string; env?: Record<string, string> } = {}): Child {
  const node = ['--import', 'tsx', ...(options.preload ? ['--import', options.preload] : []), MAIN, ...args];
  const proc = spawn(process.execPath, node, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...options.env },
  });
  children.push(proc);
  let stdout = '';
  let stderr = '';
  proc.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  proc.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<Exit>((resolve, reject) => {
    proc.on('error', reject);
    proc.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  assert.ok(proc.pid, 'spawned');
  return { proc, pid: proc.pid, exited };
}

/** Kills whatever a test left running (resumed first: a stopped process would keep SIGKILL pending anyway). */
function killAll(): void {
  for (const c of children.splice(0)) {
    if (c.exitCode === null && c.signalCode === null) {
      c.kill('SIGCONT');
      c.kill('SIGKILL');
    }
  }
}

async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>(
    (_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms)),
  );
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Polls `cond` (a query that may fail while the database is being created) until it holds. */
async function until(cond: () => boolean, what: string, ms = 90_000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      if (cond()) return;
    } catch {
      // not created yet, or mid-migration
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for: ${what}`);
    await sleep(20);
  }
}

function read<T>(db: string, fn: (d: Database.Database) => T): T {
  const d = new Database(db, { readonly: true, fileMustExist: true });
  try {
    d.pragma('busy_timeout = 5000');
    return fn(d);
  } finally {
    d.close();
  }
}
const count = (db: string, sql: string): number => read(db, (d) => (d.prepare(sql).get() as { n: number }).n);
const lockOwner = (db: string): string | undefined =>
  read(
    db,
    (d) => (d.prepare('SELECT owner FROM writer_lock WHERE id = 1').get() as { owner: string } | undefined)?.owner,
  );

const NO_STACK = /^\s+at .+\(|SqliteError|node:internal/m;

test(
  'a run suspended with SIGSTOP: a second run refuses while it lives, displaces it once its lock looks ' +
    'abandoned; the resumed one stops, exits 2 naming the owner; every run is done exactly once',
  { timeout: 240_000 },
  async () => {
    const sweep = join(dir, 'fence.yaml');
    writeFileSync(
      sweep,
      `name: fence
base: { task: { in_size: 60, out_size: 30 }, epochs: 10, algorithm: analog-sgd }
grid: { seed: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12] }
`,
    );
    const db = join(dir, 'fence.db');
    const args = ['run', sweep, '--db', db, '--threads', '1'];
    try {
      // A owns the database and is computing: suspend it
      const a = start(args);
      await until(
        () => lockOwner(db) === `${HOST}:${a.pid}` && count(db, 'SELECT count(*) AS n FROM epoch_metrics') > 0,
        'A computing',
      );
      a.proc.kill('SIGSTOP');
      assert.ok(count(db, "SELECT count(*) AS n FROM runs WHERE status = 'done'") < 12, 'A was stopped mid-sweep');

      // B1: A lives on this host (stopped is alive): refused, one line, exit 2, naming A
      const b1 = await within(start(args).exited, 120_000, 'B1 refuses');
      assert.equal(b1.code, 2, b1.stderr);
      assert.doesNotMatch(b1.stderr, NO_STACK);
      assert.match(
        b1.stderr,
        new RegExp(
          `^aimc-sweep: ${db}: in use by another coordinator \\(${HOST}:${a.pid}, a live process on this host, ` +
            `stopped \\(suspended\\)`,
          'm',
        ),
      );

      // A's lock now looks like another host's, silent for an hour (its fencing token unchanged);
      // from here on every lease and result records who wrote it and who held the lock then
      const rw = new Database(db);
      try {
        rw.pragma('busy_timeout = 5000');
        rw.exec(`
        CREATE TABLE write_log
          (seq INTEGER PRIMARY KEY AUTOINCREMENT, what TEXT, run_hash TEXT, writer TEXT, lock_owner TEXT);
        CREATE TRIGGER log_lease AFTER UPDATE OF status ON runs WHEN NEW.status = 'running' BEGIN
          INSERT INTO write_log (what, run_hash, writer, lock_owner)
            VALUES ('lease', NEW.hash, NEW.worker, (SELECT owner FROM writer_lock WHERE id = 1));
        END;
        CREATE TRIGGER log_result AFTER INSERT ON results BEGIN
          INSERT INTO write_log (what, run_hash, writer, lock_owner)
            VALUES ('result', NEW.run_hash, NEW.worker, (SELECT owner FROM writer_lock WHERE id = 1));
        END;
      `);
        rw.prepare("UPDATE writer_lock SET owner = ?, owner_started = '', refreshed_at = refreshed_at - 3600000").run(
          `far-away.example:${a.pid}`,
        );
      } finally {
        rw.close();
      }
      const doneByA = count(db, "SELECT count(*) AS n FROM runs WHERE status = 'done'");

      // B2 takes the abandoned-looking lock over and leases; suspend it too, then resume A
      const b2 = start(args);
      await until(
        () =>
          lockOwner(db) === `${HOST}:${b2.pid}` &&
          count(db, `SELECT count(*) AS n FROM write_log WHERE writer = 'local:${HOST}:${b2.pid}'`) > 0,
        'B2 took over and leased',
      );
      b2.proc.kill('SIGSTOP');
      a.proc.kill('SIGCONT');
      const aExit = await within(a.exited, 120_000, 'A stops after resuming');
      assert.equal(aExit.code, 2, aExit.stderr);
      assert.doesNotMatch(aExit.stderr, NO_STACK);
      assert.match(
        aExit.stderr,
        new RegExp(
          `^aimc-sweep: ${db}: ${HOST}:${a.pid} lost the writer lock to ${HOST}:${b2.pid}, which took the ` +
            `database over`,
          'm',
        ),
      );
      assert.doesNotMatch(aExit.stderr, /rejected: stale attempt/);
      b2.proc.kill('SIGCONT');
      const bExit = await within(b2.exited, 120_000, 'B2 finishes the sweep');
      assert.equal(bExit.code, 0, bExit.stderr);
      assert.match(
        bExit.stderr,
        new RegExp(`took the writer lock over from far-away\\.example:${a.pid} \\(no heartbeat for \\d+ s\\)`),
      );

      // never two writers: every lease and result was written by the process holding the lock
      const log = read(db, (d) =>
        d.prepare('SELECT seq, what, run_hash, writer, lock_owner FROM write_log ORDER BY seq').all(),
      ) as {
        seq: number;
        what: string;
        run_hash: string;
        writer: string;
        lock_owner: string;
      }[];
      const pid = (s: string): string => s.slice(s.lastIndexOf(':') + 1);
      assert.ok(log.length > 0);
      for (const w of log)
        assert.equal(
          pid(w.writer),
          pid(w.lock_owner),
          `${w.what} of ${w.run_hash.slice(0, 12)} by ${w.writer} while ${w.lock_owner} held the lock`,
        );
      assert.ok(
        log.every((w) => pid(w.writer) === String(b2.pid)),
        'after the takeover only B2 wrote',
      );

      // every run done exactly once: one result each, one attempt's history each
      assert.equal(count(db, "SELECT count(*) AS n FROM runs WHERE status = 'done'"), 12);
      assert.equal(
        count(db, 'SELECT count(*) AS n FROM results r JOIN runs u ON u.hash = r.run_hash WHERE r.attempt = u.attempt'),
        12,
      );
      const resultsLogged = read(db, (d) =>
        d.prepare("SELECT run_hash, count(*) AS n FROM write_log WHERE what = 'result' GROUP BY run_hash").all(),
      ) as { n: number }[];
      assert.ok(
        resultsLogged.every((r) => r.n === 1),
        'no run completed twice',
      );
      assert.equal(doneByA + resultsLogged.length, 12);
      assert.equal(count(db, 'SELECT count(*) AS n FROM epoch_metrics'), 12 * 11);
      assert.equal(
        count(
          db,
          'SELECT count(*) AS n FROM epoch_metrics e JOIN runs r ON r.hash = e.run_hash WHERE e.attempt <> r.attempt',
        ),
        0,
        'no late epoch of a lost lease',
      );
      assert.equal(count(db, 'SELECT count(*) AS n FROM writer_lock'), 0, 'B2 released the lock');
      assert.equal(
        read(db, (d) => d.pragma('integrity_check', { simple: true })),
        'ok',
      );
    } finally {
      killAll();
    }
  },
);

test(
  'a disk that fills up mid-sweep: one line, exit 1, the lock released, results intact; the same command resumes',
  { timeout: 180_000 },
  async () => {
    const sweep = join(dir, 'full.yaml');
    writeFileSync(
      sweep,
      `name: full
base: { task: { in_size: 4, out_size: 3, n_samples: 20 }, epochs: 2, algorithm: analog-sgd }
grid: { seed: [1, 2, 3, 4, 5, 6] }
`,
    );
    const db = join(dir, 'full.db');
    const args = ['run', sweep, '--db', db, '--threads', '1'];
    try {
      const full = await within(
        start(args, { preload: FULL_DISK, env: { AIMC_TEST_RESULTS_BEFORE_FULL: '2' } }).exited,
        120_000,
        'run on a full disk',
      );
      assert.equal(full.code, 1, full.stderr);
      assert.doesNotMatch(full.stderr, NO_STACK);
      const lines = full.stderr.trimEnd().split('\n');
      assert.equal(
        lines[lines.length - 1],
        `aimc-sweep: ${db}: database or disk is full; free space and run the same command to resume`,
      );
      assert.equal(count(db, 'SELECT count(*) AS n FROM writer_lock'), 0, 'lock released');
      assert.equal(
        read(db, (d) => d.pragma('integrity_check', { simple: true })),
        'ok',
      );
      assert.equal(
        count(db, "SELECT count(*) AS n FROM runs WHERE status = 'failed'"),
        0,
        'the runs stopped in flight are not recorded as failed',
      );
      const stored = read(db, (d) =>
        d
          .prepare(
            'SELECT r.hash, r.attempt, s.finished_at, s.weights_digest FROM runs r JOIN results s ON ' +
              "s.run_hash = r.hash WHERE r.status = 'done' ORDER BY r.hash",
          )
          .all(),
      );
      assert.equal(stored.length, 2, 'the results stored before the disk filled up');
      assert.equal(
        count(
          db,
          "SELECT count(*) AS n FROM epoch_metrics e JOIN runs r ON r.hash = e.run_hash WHERE r.status = 'done'",
        ),
        2 * 3,
      );

      const resumed = await within(start(args).exited, 120_000, 'the same command again');
      assert.equal(resumed.code, 0, resumed.stderr);
      assert.match(resumed.stderr, /6 runs \(0 new .*\): 2 done, 0 failed, 4 to run/);
      assert.equal(count(db, "SELECT count(*) AS n FROM runs WHERE status = 'done'"), 6);
      const again = read(db, (d) =>
        d
          .prepare(
            'SELECT r.hash, r.attempt, s.finished_at, s.weights_digest FROM runs r JOIN results s ON ' +
              's.run_hash = r.hash ORDER BY r.hash',
          )
          .all(),
      ) as { hash: string }[];
      for (const s of stored as { hash: string }[])
        assert.deepEqual(
          again.find((x) => x.hash === s.hash),
          s,
          'stored results untouched',
        );
    } finally {
      killAll();
    }
  },
);

test(
  'serve suspended with SIGSTOP and displaced: once resumed it stops and exits 2 naming the new owner',
  { timeout: 180_000 },
  async () => {
    const sweep = join(dir, 'after-serve.yaml');
    writeFileSync(
      sweep,
      'name: after-serve\nbase: { task: { in_size: 60, out_size: 30 }, epochs: 10, algorithm: analog-sgd ' +
        '}\ngrid: { seed: [1, 2, 3, 4] }\n',
    );
    const db = join(dir, 'serve.db');
    try {
      const coordinator = start(['serve', '--db', db, '--listen', '127.0.0.1:0']);
      await until(() => lockOwner(db) === `${HOST}:${coordinator.pid}`, 'serve owns the database');
      coordinator.proc.kill('SIGSTOP');
      const rw = new Database(db);
      try {
        rw.pragma('busy_timeout = 5000');
        rw.prepare('UPDATE writer_lock SET owner = ?, refreshed_at = refreshed_at - 3600000').run(
          `far-away.example:${coordinator.pid}`,
        );
      } finally {
        rw.close();
      }
      const b = start(['run', sweep, '--db', db, '--threads', '1']);
      await until(() => lockOwner(db) === `${HOST}:${b.pid}`, 'run took over');
      b.proc.kill('SIGSTOP');
      coordinator.proc.kill('SIGCONT');
      const served = await within(coordinator.exited, 120_000, 'serve stops after resuming');
      assert.equal(served.code, 2, served.stderr);
      assert.doesNotMatch(served.stderr, NO_STACK);
      assert.match(
        served.stderr,
        new RegExp(`^aimc-sweep: ${db}: ${HOST}:${coordinator.pid} lost the writer lock to ${HOST}:${b.pid}`, 'm'),
      );
      b.proc.kill('SIGCONT');
      const ran = await within(b.exited, 120_000, 'run finishes');
      assert.equal(ran.code, 0, ran.stderr);
      assert.equal(count(db, "SELECT count(*) AS n FROM runs WHERE status = 'done'"), 4);
    } finally {
      killAll();
    }
  },
);
