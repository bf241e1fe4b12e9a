/**
 * `run --dry-run` / `submit --dry-run`: the runs to compute and those stored, an estimate of
 * their CPU-hours and how it was made (stored wall times of the same configuration with another
 * seed, else a bounded calibration), and never a write to the database.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { dryRunReport } from '../src/cli/dry-run.ts';
import { openStore } from '../src/store/open.ts';
import { SqliteRunQueue } from '../src/store/run-queue.ts';
import { expandSweep } from '../src/sweep/expand.ts';
import { parseSweepText } from '../src/sweep/spec.ts';
import { runCli } from './helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'aimc-dry-run-'));
const sweep = (seeds: number[]): string =>
  `name: dry\nbase: { epochs: 2, task: { in_size: 4, out_size: 2, n_samples: 10 } }\ngrid: { seed: ` +
  `[${seeds.join(', ')}], algorithm: [sgd, analog-sgd] }\n`;
const sha = (file: string): string => createHash('sha256').update(readFileSync(file)).digest('hex');

test('a missing database: every run is to compute, estimated by a calibration, and no file is made', async () => {
  const file = join(dir, 'dry.yaml');
  writeFileSync(file, sweep([1, 2]));
  const db = join(dir, 'none.db');
  const t0 = Date.now();
  const r = await runCli('run', file, '--db', db, '--dry-run', '--threads', '2');
  assert.equal(r.code, 0, r.stderr);
  assert.ok(Date.now() - t0 < 30_000);
  const lines = r.stdout.split('\n');
  assert.equal(lines[0], 'dry: 4 runs, 4 to compute (dry run: nothing computed, nothing written)');
  assert.equal(lines[1], `  ${db} does not exist yet: nothing is stored`);
  // a few ms of work: '< 0.0001' where the machine is fast, a decimal where it is not
  assert.match(
    lines[2],
    /^estimated cost: (?:< 0\.0001|0\.\d+) CPU-hours \(\d+ ms of one core; about \d+ ms on 2 threads here\)$/,
  );
  assert.match(
    r.stdout,
    /how: 4 runs from timing a short run of each of its 2 configuration shapes here \(config without seed; /,
  );
  assert.ok(!existsSync(db), 'no database made');
  assert.deepEqual(readdirSync(dir).sort(), ['dry.yaml']);
});

test(
  'a database: stored runs counted, failed ones left, the others estimated from stored wall times; the file is ' +
    'untouched',
  () => {
    const db = join(dir, 'results.db');
    const first = expandSweep(parseSweepText(sweep([1, 2]), 'dry.yaml'));
    {
      const store = openStore(db);
      const q = new SqliteRunQueue(store);
      const now = Date.now();
      const id = q.recordSweep(
        {
          name: 'dry',
          description: '',
          specJson: '{}',
          source: 'dry.yaml',
          runs: first.runs.map((r) => ({
            hash: r.hash,
            configJson: r.configJson,
            numericsVersion: 1,
            assignmentsJson: JSON.stringify(r.assignments),
          })),
        },
        now,
      ).sweepId;
      for (const lease of q.lease('w1', 10, now, 3_600_000, id)) {
        const c = JSON.parse(lease.configJson) as { algorithm: string; seed: number };
        if (c.seed === 1) {
          const wall = c.algorithm === 'sgd' ? 60_000 : 120_000;
          const history = [{ epoch: 0, train_loss: 1, pulses: {} }];
          assert.equal(
            q.complete('w1', lease, { numerics_version: 1, history, weights_digest: 'd', wall_ms: wall } as never, now)
              .accepted,
            true,
          );
        } else if (c.algorithm === 'sgd') q.fail('w1', lease, 'diverged', now);
        // seed 2 analog-sgd: left leased, as by a process that was killed
      }
      store.close();
    }
    const before = sha(db);
    const runs = expandSweep(parseSweepText(sweep([1, 2, 3]), 'dry.yaml')).runs;
    const report = dryRunReport({ name: 'dry', runs, db, retryFailed: false, threads: 1 });
    const lines = report.split('\n');
    assert.equal(lines[0], 'dry: 6 runs, 3 to compute (dry run: nothing computed, nothing written)');
    assert.equal(
      lines[1],
      `  stored in ${db}: 2 done, 1 failed (not re-run without --retry-failed), 1 queued or leased (to compute)`,
    );
    // sgd seed 3: 60 s; analog-sgd seeds 2 and 3: 120 s each
    assert.equal(lines[2], 'estimated cost: 0.083 CPU-hours (5 min of one core; about 5 min on 1 thread here)');
    assert.match(report, /how: 3 runs from the stored wall times of 2 done runs that differ only in the seed\n/);
    const retry = dryRunReport({ name: 'dry', runs, db, retryFailed: true });
    assert.match(retry, /^dry: 6 runs, 4 to compute /);
    assert.match(
      retry,
      /\n {2}stored in .*: 2 done, 1 failed \(re-run: --retry-failed\), 1 queued or leased \(to compute\)\nestimated cost: 0\.10 CPU-hours \(6 min of one core\)\n/,
    );
    assert.equal(sha(db), before, 'the database file is unchanged');
  },
);

test('submit --dry-run needs no coordinator; without --db it says what it cannot know', async () => {
  const file = join(dir, 'submit.yaml');
  writeFileSync(file, sweep([1]));
  const r = await runCli('submit', file, '--dry-run');
  assert.equal(r.code, 0, r.stderr);
  assert.match(
    r.stdout,
    /^dry: 2 runs, 2 to compute \(dry run: nothing computed, nothing written\)\n {2}which of them the coordinator has stored is not known here \(pass --db with its database to count them\)\n/,
  );
  assert.doesNotMatch(r.stdout, /threads here/);
  const noCoordinator = await runCli('submit', file);
  assert.equal(noCoordinator.code, 2);
  assert.match(noCoordinator.stderr, /coordinator/);
});
