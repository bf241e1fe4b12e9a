/**
 * The read-side commands end to end: `table`, `query`, `export` and `status` spawned on a
 * database populated through SqliteRunQueue with synthetic results. The commands are started all at
 * once (each test awaits its own) so the file stays fast.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseCsv, runCli } from './helpers.ts';
import Database from 'better-sqlite3';
import type { EpochMetrics, RunResult } from '../src/core/train.ts';
import { openStore } from '../src/store/open.ts';
import { SqliteRunQueue } from '../src/store/run-queue.ts';
import { canonicalJson, runHash } from '../src/sweep/canonical.ts';

const cli = runCli;

// ---- the database: analog-sgd and mp x 4 and 16 states x seeds 1, 2 ---------------------------

const dir = mkdtempSync(join(tmpdir(), 'aimc-results-cli-'));
const DB = join(dir, 'results.db');
const ACC: Record<string, number> = { 'analog-sgd/4': 0.5, 'analog-sgd/16': 0.7, 'mp/4': 0.8, 'mp/16': 0.9 };
const now = Date.now();
{
  const db = openStore(DB);
  const q = new SqliteRunQueue(db);
  const runs: { hash: string; configJson: string; numericsVersion: number; assignmentsJson: string }[] = [];
  for (const algorithm of ['mp', 'analog-sgd']) {
    for (const n of [4, 16]) {
      for (const seed of [1, 2]) {
        const config = {
          algorithm,
          seed,
          device: { kind: 'softbounds', n_states: n },
          model: { hidden: [8, 4] },
          task: { kind: 'mnist' },
        };
        runs.push({
          hash: runHash(config as never),
          configJson: canonicalJson(config),
          numericsVersion: 1,
          assignmentsJson: canonicalJson({ algorithm, 'device.n_states': n, seed }),
        });
      }
    }
  }
  const id = q.recordSweep(
    { name: 'cli', description: 'd', specJson: '{}', source: 'cli.yaml', runs },
    now - 5 * 60_000,
  ).sweepId;
  for (const lease of q.lease('w1', 100, now - 5 * 60_000, 3_600_000, id)) {
    const c = JSON.parse(lease.configJson) as { algorithm: string; seed: number; device: { n_states: number } };
    if (c.algorithm === 'mp' && c.device.n_states === 16 && c.seed === 2) {
      q.fail('w1', lease, 'worker said: "out of memory", giving up', now - 60_000);
      continue;
    }
    const v = ACC[`${c.algorithm}/${c.device.n_states}`] + (c.seed === 1 ? -0.05 : 0.05);
    const history: EpochMetrics[] = [
      { epoch: 0, train_loss: 2, test_loss: 2, test_accuracy: 0.1, pulses: {} },
      { epoch: 1, train_loss: 1, test_loss: 1, test_accuracy: v + 0.02, pulses: { W: 1 } },
      { epoch: 2, train_loss: 0.5, test_loss: 0.8, test_accuracy: v, pulses: { W: 2 } },
    ];
    const result: RunResult = {
      numerics_version: 1,
      config: c as never,
      history,
      final: history[2],
      weights_digest: 'd',
      wall_ms: 10,
    };
    assert.equal(q.complete('w1', lease, result, now - 2 * 60_000).accepted, true);
  }
  db.prepare(
    'INSERT INTO workers (id, name, host, slots, free_slots, connected, registered_at, last_heartbeat_at) ' +
      'VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
  ).run(
    'w1',
    'node-a',
    'a.lan',
    4,
    // free leases as the worker announces them: 4 threads x 2 leases, 3 held: 1 thread idle
    5,
    1,
    now - 3_600_000,
    now - 2000,
  );
  db.close();
}

const OUT = join(dir, 'out.csv');
// eight processes: the machines running this suite may have two cores
const run = {
  md: cli('table', '--sweep', 'cli', '--db', DB),
  json: cli(
    'table',
    '--sweep',
    'cli',
    '--db',
    DB,
    '--rows',
    'algorithm',
    '--cols',
    'seed',
    '--epoch',
    'best',
    '--format',
    'json',
  ),
  unknownSweep: cli('table', '--sweep', 'nope', '--db', DB),
  select: cli('query', 'SELECT status, count(*) AS n FROM runs GROUP BY status ORDER BY status', '--db', DB),
  write: cli('query', 'DELETE FROM results', '--db', DB),
  exportOut: cli('export', '--sweep', 'cli', '--db', DB, '--format', 'csv', '--out', OUT),
  status: cli('status', '--db', DB),
  statusMissing: cli('status', '--db', join(dir, 'missing.db')),
};

test('table: markdown pivot by default layout (rows algorithm, columns states) with counts', async () => {
  const r = await run.md;
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.split('\n');
  assert.equal(
    lines[0],
    '### cli: test_accuracy (%), final epoch, mean ± std [95 % CI] over seeds (8 runs: 7 done, 1 failed)',
  );
  assert.equal(lines[2], '| algorithm | device.n_states=4 | device.n_states=16 |');
  // two seeds: t(0.975, 1) = 12.71, so the interval is mean ± 9 std (clipped to [0, 100] %); one seed: the value alone
  assert.equal(lines[4], '| mp | 80.00 ± 7.07 [16.47, 100.00] (n=2) | 85.00 (n=1, 1 failed) |');
  assert.equal(lines[5], '| analog-sgd | 50.00 ± 7.07 [0.00, 100.00] (n=2) | 70.00 ± 7.07 [6.47, 100.00] (n=2) |');
  assert.match(lines[7], /^\[lo, hi\]: 95 % confidence interval of the mean/);
});

test('table: json cells with --epoch best and given rows/columns; the mixed-cell warning on stderr', async () => {
  const r = await run.json;
  assert.equal(r.code, 0, r.stderr);
  const cells = JSON.parse(r.stdout) as {
    row: Record<string, unknown>;
    col: Record<string, unknown>;
    mean: number;
    n: number;
    failed: number;
    epoch: string;
    mixed: { key: string }[];
  }[];
  assert.equal(cells.length, 4);
  const a1 = cells.find((c) => c.row.algorithm === 'analog-sgd' && c.col.seed === 1);
  // best epoch (1) of seed 1: (0.5 - 0.05 + 0.02) at 4 states, (0.7 - 0.05 + 0.02) at 16; in percent, as the markdown
  // table
  assert.ok(
    a1 && Math.abs(a1.mean - 100 * ((0.47 + 0.67) / 2)) < 1e-9 && a1.n === 2 && a1.epoch === 'best',
    JSON.stringify(a1),
  );
  const mp2 = cells.find((c) => c.row.algorithm === 'mp' && c.col.seed === 2);
  assert.deepEqual([mp2?.n, mp2?.failed], [1, 1]);
  assert.deepEqual(
    a1.mixed.map((m) => m.key),
    ['device.n_states'],
  );
  assert.match(r.stderr, /warning: 4 cells average over runs that differ in device\.n_states \(4, 16\)/);
});

test('table: unknown sweep and missing database exit 2 with a message', async () => {
  const u = await run.unknownSweep;
  assert.equal(u.code, 2);
  assert.match(u.stderr, /no sweep named "nope" \(sweeps: cli\)/);
});

test('query: SELECT prints rows; a write is refused with exit 2 and changes nothing', async () => {
  const s = await run.select;
  assert.equal(s.code, 0, s.stderr);
  assert.deepEqual(
    s.stdout
      .trim()
      .split('\n')
      .map((l) => l.trim().split(/\s+/)),
    [
      ['status', 'n'],
      ['done', '7'],
      ['failed', '1'],
      ['(2', 'rows)'],
    ],
  );
  const w = await run.write;
  assert.equal(w.code, 2, w.stderr);
  assert.match(w.stderr, /query: refused: DELETE writes to the database/);
  await Promise.all(Object.values(run));
  const db = new Database(DB, { readonly: true });
  try {
    assert.equal((db.prepare('SELECT count(*) AS n FROM results').get() as { n: number }).n, 7);
  } finally {
    db.close();
  }
});

test('export: a CSV header and one row per run, quoted fields, config columns, written to --out', async () => {
  const r = await run.exportOut;
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, '');
  const text = readFileSync(OUT, 'utf8');
  const rows = parseCsv(text);
  assert.equal(rows.length, 1 + 8);
  const [header] = rows;
  const col = (row: string[], c: string) => row[header.indexOf(c)];
  assert.deepEqual(header.slice(0, 5), ['hash', 'position', 'status', 'attempt', 'error']);
  assert.ok(
    [
      'swept.algorithm',
      'config.device.n_states',
      'config.model.hidden',
      'test_accuracy',
      'package_version',
      'git_commit',
      'host',
    ].every((c) => header.includes(c)),
  );
  assert.ok(rows.every((row) => row.length === header.length));
  const failed = rows.filter((row) => col(row, 'status') === 'failed');
  assert.equal(failed.length, 1);
  assert.equal(col(failed[0], 'error'), 'worker said: "out of memory", giving up');
  assert.ok(text.includes(',"worker said: ""out of memory"", giving up",'));
  assert.ok(text.includes(',"[8,4]",'));
  assert.deepEqual(
    rows.slice(1).map((row) => col(row, 'position')),
    ['0', '1', '2', '3', '4', '5', '6', '7'],
  );
});

test('status: sweeps with counts by state, progress, throughput; workers', async () => {
  const r = await run.status;
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.split('\n');
  assert.match(lines[0], /results\.db: 1 sweep, 1 worker$/);
  assert.deepEqual(lines[1].split(/\s+/), [
    'sweep',
    'runs',
    'queued',
    'running',
    'done',
    'failed',
    'progress',
    'runs/min',
    'ETA',
  ]);
  // the throughput depends on the wall time since the fixture's runs finished: its value is
  // checked with an injected clock in report.test.ts (statusReport), here only its form
  const row = lines[2].split(/\s+/);
  assert.deepEqual([...row.slice(0, 8), row[9]], ['cli', '8', '0', '0', '7', '1', '100.0', '%', 'finished']);
  assert.match(row[8], /^\d+(\.\d)?$/);
  assert.match(r.stdout, /^w1 +node-a +a\.lan +4 +1 +yes +\d+ s ago$/m);
  const m = await run.statusMissing;
  assert.equal(m.code, 2);
  assert.match(m.stderr, /no results database here/);
});
