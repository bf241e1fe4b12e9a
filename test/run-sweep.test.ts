/**
 * `aimc-sweep run` end to end in child processes: results stored once per run, resume after a
 * SIGKILL mid-sweep without recomputing or losing anything, failed runs recorded and retried.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';

const MAIN = new URL('../src/cli/main.ts', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'aimc-run-'));

function cli(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', MAIN, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function sweepFile(name: string, yaml: string): string {
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, yaml);
  return file;
}

interface RunRow {
  hash: string;
  status: string;
  attempt: number;
  error: string | null;
  finished_at: number | null;
}
function runRows(db: string): RunRow[] {
  const d = new Database(db, { readonly: true });
  try {
    return d.prepare('SELECT hash, status, attempt, error, finished_at FROM runs ORDER BY hash').all() as RunRow[];
  } finally {
    d.close();
  }
}
function count(db: string, sql: string): number {
  const d = new Database(db, { readonly: true });
  try {
    return (d.prepare(sql).get() as { n: number }).n;
  } finally {
    d.close();
  }
}

test('run stores every run once, prints one line per run off a TTY and the table; re-running computes nothing', () => {
  const file = sweepFile(
    'small',
    `name: small
base: { task: { in_size: 4, out_size: 3, n_samples: 20 }, epochs: 2 }
grid: { device.n_states: [4, 16], seed: [1, 2] }
cases: [ { algorithm: analog-sgd }, { algorithm: ttv2 } ]
`,
  );
  const db = join(dir, 'small.db');
  const first = cli('run', file, '--db', db, '--threads', '2');
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stderr, /small: 8 runs \(8 new in .*\): 0 done, 0 failed, 8 to run on 2 threads/);
  assert.equal(first.stderr.match(/^\[\d\/8\] done/gm)?.length, 8);
  assert.match(first.stdout, /### small: weight_error/);
  assert.match(first.stdout, /\| analog-sgd \| .*\(n=2\) \| .*\(n=2\) \|/);
  const before = runRows(db);
  assert.ok(before.every((r) => r.status === 'done' && r.attempt === 1));
  assert.equal(count(db, 'SELECT count(*) AS n FROM results'), 8);
  assert.equal(count(db, 'SELECT count(*) AS n FROM epoch_metrics'), 8 * 3);

  const again = cli('run', file, '--db', db);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stderr, /8 runs \(0 new .*\): 8 done, 0 failed, 0 to run/);
  assert.deepEqual(runRows(db), before);
});

test('a sweep killed with SIGKILL mid-run resumes: no finished run recomputed, none lost or duplicated', async () => {
  const file = sweepFile(
    'killme',
    `name: killme
base: { task: { in_size: 20, out_size: 10 }, epochs: 6 }
grid: { seed: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], algorithm: [analog-sgd, sgd] }
`,
  );
  const db = join(dir, 'killme.db');
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'run', file, '--db', db, '--threads', '2'], {
    stdio: 'ignore',
  });
  const exited = new Promise((resolve) => child.on('exit', resolve));
  let done = 0;
  for (let i = 0; i < 600 && done < 4; i++) {
    await sleep(50);
    try {
      done = count(db, "SELECT count(*) AS n FROM runs WHERE status = 'done'");
    } catch {
      // the database is not created yet
    }
  }
  child.kill('SIGKILL');
  await exited;
  const atKill = runRows(db);
  const finishedBefore = atKill.filter((r) => r.status === 'done');
  assert.ok(finishedBefore.length >= 4, `runs done before the kill: ${finishedBefore.length}`);
  assert.ok(finishedBefore.length < 24, 'the kill came mid-sweep');

  const resumed = cli('run', file, '--db', db, '--threads', '2');
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.match(resumed.stderr, new RegExp(`24 runs \\(0 new .*\\): ${finishedBefore.length} done`));
  const after = runRows(db);
  assert.equal(after.length, 24);
  assert.ok(after.every((r) => r.status === 'done'));
  assert.equal(count(db, 'SELECT count(*) AS n FROM results'), 24);
  assert.equal(count(db, 'SELECT count(DISTINCT run_hash) AS n FROM epoch_metrics'), 24);
  assert.equal(count(db, 'SELECT count(*) AS n FROM epoch_metrics'), 24 * 7, 'one attempt of history per run');
  for (const r of finishedBefore)
    assert.deepEqual(
      after.find((a) => a.hash === r.hash),
      r,
      'finished runs untouched',
    );
  // an interrupted run was leased again as a new attempt
  const inflight = atKill.filter((r) => r.status === 'running').map((r) => r.hash);
  for (const h of inflight) assert.equal(after.find((a) => a.hash === h)?.attempt, 2);
});

test(
  'the step means of least-squares epochs reach the store: table and plot read step_weight_error, ' + '--epoch tail',
  () => {
    const file = sweepFile(
      'steps',
      `name: steps
base: { task: { form: scalar, n_samples: 20 }, epochs: 10, lr: 0.05, init: { kind: uniform, scale: 1 } }
grid: { seed: [1, 2] }
cases: [ { algorithm: sgd }, { algorithm: analog-sgd, device: { kind: softbounds, n_states: 20 } } ]
`,
    );
    const db = join(dir, 'steps.db');
    const r = cli('run', file, '--db', db, '--threads', '2');
    assert.equal(r.code, 0, r.stderr);
    // per run the mean of epochs 9 and 10 (the last 20 % of 10), then the mean over the seeds
    const d = new Database(db, { readonly: true });
    const expected = d
      .prepare(
        `SELECT algorithm, avg(tail) AS mean, count(*) AS n FROM (
         SELECT json_extract(r.config_json, '$.algorithm') AS algorithm, avg(e.step_weight_error) AS tail
         FROM runs r JOIN epoch_metrics e ON e.run_hash = r.hash WHERE e.epoch >= 9 GROUP BY r.hash)
       GROUP BY algorithm`,
      )
      .all() as { algorithm: string; mean: number; n: number }[];
    const nulls = d
      .prepare(
        'SELECT count(*) AS n FROM epoch_metrics WHERE (step_weight_error IS NULL OR step_loss IS NULL) AND epoch > 0',
      )
      .get() as { n: number };
    d.close();
    assert.equal(nulls.n, 0, 'every trained epoch has its step means');
    assert.equal(expected.length, 2);
    const table = cli(
      'table',
      '--sweep',
      'steps',
      '--db',
      db,
      '--metric',
      'step_weight_error',
      '--epoch',
      'tail',
      '--format',
      'json',
    );
    assert.equal(table.code, 0, table.stderr);
    const cells = JSON.parse(table.stdout) as {
      row: { algorithm: string };
      metric: string;
      epoch: string;
      mean: number;
      n: number;
    }[];
    assert.equal(cells.length, 2);
    for (const e of expected) {
      const c = cells.find((x) => x.row.algorithm === e.algorithm);
      assert.ok(c && c.metric === 'step_weight_error' && c.epoch === 'tail' && c.n === 2, JSON.stringify(c));
      assert.ok(e.mean > 0 && Math.abs(c.mean - e.mean) <= 1e-12 * e.mean, `${e.algorithm}: ${c.mean} vs ${e.mean}`);
    }
    const md = cli('table', '--sweep', 'steps', '--db', db, '--metric', 'step_weight_error', '--epoch', 'tail');
    assert.equal(md.code, 0, md.stderr);
    assert.match(md.stdout, /### steps: step_weight_error, mean of the last 20 % of epochs/);
    const plot = cli('plot', '--sweep', 'steps', '--db', db, '--metric', 'step_loss');
    assert.equal(plot.code, 0, plot.stderr);
    assert.match(plot.stdout, /<title>steps: step_loss vs epoch<\/title>/);
  },
);

test(
  'runs that throw or diverge are recorded as failed with their error; the sweep goes on; --retry-failed re-runs ' +
    'them',
  () => {
    const file = sweepFile(
      'failing',
      `name: failing
base: { task: { in_size: 4, out_size: 3, n_samples: 20 }, epochs: 2, algorithm: sgd }
cases:
  - { lr: [0.01, 1000] }
  - { task: { kind: idx, data_dir: ${JSON.stringify(join(dir, 'no-such-dir'))} }, model: { hidden: [] } }
`,
    );
    const db = join(dir, 'failing.db');
    const r = cli('run', file, '--db', db, '--threads', '1');
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stderr,
      /2 runs failed; see: node --import tsx \S*src\/cli\/main\.ts query "SELECT hash, error FROM runs WHERE status = 'failed'" --db \S+/,
    ); // as it was started
    const rows = runRows(db);
    assert.deepEqual(rows.map((x) => x.status).sort(), ['done', 'failed', 'failed']);
    const errors = rows.map((x) => x.error ?? '').join('\n');
    assert.match(errors, /diverged at epoch 1: loss is NaN/);
    assert.match(errors, /no-such-dir.*not found/);

    const retry = cli('run', file, '--db', db, '--retry-failed');
    assert.equal(retry.code, 0, retry.stderr);
    assert.match(retry.stderr, /2 failed re-queued, 2 to run/);
    const retried = runRows(db).filter((x) => x.status === 'failed');
    assert.equal(retried.length, 2);
    assert.ok(retried.every((x) => x.attempt === 2));
  },
);

test('bad sweep files and unusable databases exit 2 with the file and field', () => {
  const bad = sweepFile('bad', 'name: bad\ngrid: { device.n_states: [4, 1] }\n');
  const r = cli('run', bad, '--db', join(dir, 'bad.db'));
  assert.equal(r.code, 2);
  assert.match(r.stderr, /n_states/);
  const notDb = join(dir, 'not-a-db.txt');
  writeFileSync(notDb, 'hello, this is not sqlite at all'.repeat(40));
  const good = sweepFile('good', 'name: good\nbase: { epochs: 1, task: { in_size: 2, out_size: 2, n_samples: 4 } }\n');
  const d = cli('run', good, '--db', notDb);
  assert.equal(d.code, 2, d.stderr);
  assert.match(d.stderr, /not-a-db\.txt: /);
});
