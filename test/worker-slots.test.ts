/**
 * A worker's slots are its threads: `worker --threads 2` registers 2 slots (the runs it computes
 * at once; it holds up to 2 leases per thread, one running and one queued, to keep them busy),
 * and `status`, from the coordinator or the database, shows 2 slots and how many are idle.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { idleSlots } from '../src/cli/status.ts';
import { runCli } from './helpers.ts';

const MAIN = new URL('../src/cli/main.ts', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'aimc-slots-'));
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

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const t0 = Date.now();
  while (!(await check())) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** The worker row of `status` output: [slots, free]. */
function workerRow(stdout: string): [string, string] | undefined {
  const m = /^w-[0-9a-f]+ +two +\S+ +(\d+) +(\d+) +(yes|no) /m.exec(stdout);
  return m ? [m[1], m[2]] : undefined;
}

test('idle threads from the free leases a worker announces', () => {
  assert.equal(idleSlots(2, 4), 2, 'nothing held');
  assert.equal(idleSlots(2, 3), 1, 'one lease running');
  assert.equal(idleSlots(2, 2), 0, 'both threads running');
  assert.equal(idleSlots(2, 0), 0, 'both running, two queued');
});

test(
  'worker --threads 2: 2 slots in its log and in status (coordinator and database), all free when idle, none ' +
    'while busy',
  { timeout: 120_000 },
  async () => {
    const db = join(dir, 'slots.db');
    const address = `127.0.0.1:${await freePort()}`;
    const coordinator = start('serve', '--db', db, '--listen', address);
    await until('the coordinator to listen', () => /listening on/.test(coordinator.log()));
    const worker = start('worker', '--coordinator', address, '--threads', '2', '--name', 'two');
    await until('the worker session', () => /session open/.test(worker.log()));
    assert.match(
      worker.log(),
      /registered as w-[0-9a-f]+ \(2 slots: 2 runs at once on 2 threads, up to 4 leases held to keep them busy; /,
    );

    // status lists workers once there is a sweep: a quick one, done before the check
    const quick = join(dir, 'quick.yaml');
    writeFileSync(quick, 'name: quick\nbase: { epochs: 1, task: { in_size: 2, out_size: 2, n_samples: 4 } }\n');
    const waited = await runCli('submit', quick, '--coordinator', address, '--wait');
    assert.equal(waited.code, 0, waited.stderr);
    await until(
      'status: 2 slots, 2 free',
      async () => workerRow((await runCli('status', '--coordinator', address)).stdout)?.join(' ') === '2 2',
    );
    const fromDb = await runCli('status', '--db', db);
    assert.deepEqual(workerRow(fromDb.stdout), ['2', '2'], fromDb.stdout);

    // six runs of seconds each: both threads busy, two more leases queued
    const file = join(dir, 'busy.yaml');
    writeFileSync(
      file,
      'name: busy\nbase: { algorithm: tiki-taka, epochs: 400, task: { in_size: 20, out_size: 10, n_samples: ' +
        '200 } }\ngrid: { seed: [1, 2, 3, 4, 5, 6] }\n',
    );
    const submitted = await runCli('submit', file, '--coordinator', address);
    assert.equal(submitted.code, 0, submitted.stderr);
    await until(
      'status: 2 slots, none free',
      async () => workerRow((await runCli('status', '--coordinator', address)).stdout)?.join(' ') === '2 0',
    );
    const busyDb = await runCli('status', '--db', db);
    assert.deepEqual(workerRow(busyDb.stdout), ['2', '0'], busyDb.stdout);
    worker.child.kill('SIGKILL');
    coordinator.child.kill('SIGTERM');
  },
);
