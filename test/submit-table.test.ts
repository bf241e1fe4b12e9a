/**
 * `submit --wait` ends like `run`: with the sweep's table, read from `--db` (the coordinator's
 * database, read-only) where this host can read it; without --db it says how to get the table.
 * A coordinator and a worker in child processes on 127.0.0.1, a sweep of a few tiny runs.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { runCli } from './helpers.ts';

const MAIN = new URL('../src/cli/main.ts', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'aimc-submit-table-'));
const children = new Set<ChildProcess>();
after(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

function start(...args: string[]): { child: ChildProcess; log: () => string } {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let log = '';
  child.stdout?.on('data', (d: Buffer) => (log += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (log += d.toString()));
  return { child, log: () => log };
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

test(
  'submit --wait --db prints the table at the end; without --db it says how to get it; a wrong --db is refused ' +
    'before submitting',
  { timeout: 120_000 },
  async () => {
    const db = join(dir, 'coordinator.db');
    const port = await freePort();
    const address = `127.0.0.1:${port}`;
    const coordinator = start('serve', '--db', db, '--listen', address);
    const t0 = Date.now();
    while (!/listening on/.test(coordinator.log())) {
      if (Date.now() - t0 > 30_000) throw new Error(`the coordinator did not start:\n${coordinator.log()}`);
      await sleep(50);
    }
    const worker = start('worker', '--coordinator', address, '--threads', '2');
    const file = join(dir, 'tiny.yaml');
    writeFileSync(
      file,
      'name: tiny\nbase: { task: { in_size: 4, out_size: 2, n_samples: 8 }, epochs: 3 }\ngrid: { seed: [1, 2, ' +
        '3] }\ncases: [ { algorithm: analog-sgd }, { algorithm: ttv2 } ]\nview: { rows: [algorithm], metric: ' +
        'weight_error, stat: median }\n',
    );

    const missing = await runCli('submit', file, '--coordinator', address, '--wait', '--db', join(dir, 'nope.db'));
    assert.equal(missing.code, 2, missing.stderr);
    assert.match(missing.stderr, /--db: .*nope\.db: no results database here/);
    assert.doesNotMatch(missing.stdout, /submitted/, 'refused before submitting');

    const r = await runCli('submit', file, '--coordinator', address, '--wait', '--db', db);
    assert.equal(r.code, 0, `${r.stderr}\n${coordinator.log()}\n${worker.log()}`);
    assert.match(r.stdout, /tiny: submitted to .*: 6 runs/);
    assert.match(
      r.stdout,
      /tiny: finished\n\n### tiny: weight_error, final epoch, median \[min, max\] over seeds \(6 runs: 6 done\)\n/,
      'the table as run prints it, in the view of the sweep',
    );
    assert.match(r.stdout, /\n\| analog-sgd \| [\d.e+-]+ \[[\d.e+-]+, [\d.e+-]+\] \(n=3\) \|\n/);

    const again = await runCli('submit', file, '--coordinator', address, '--wait');
    assert.equal(again.code, 0, again.stderr);
    assert.match(
      again.stdout,
      /tiny: finished\ntiny: its table: aimc-sweep table --sweep tiny --db <the coordinator's database>/,
    );

    const noWait = await runCli('submit', file, '--coordinator', address, '--db', db);
    assert.equal(noWait.code, 2);
    assert.match(noWait.stderr, /--db: only with --dry-run or --wait/);
    worker.child.kill('SIGTERM');
    coordinator.child.kill('SIGTERM');
  },
);
