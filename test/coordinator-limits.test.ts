/**
 * Submit against a live coordinator (in-process, 127.0.0.1, ephemeral port): an oversized sweep
 * is INVALID_ARGUMENT at once and the coordinator answers right after; a payload over 1 MiB is
 * refused before it is parsed; a large sweep is expanded off the event loop, so status calls are
 * answered while it expands; a sweep that expands too long is given up (its thread terminated).
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { Scheduler } from '../src/coordinator/scheduler.ts';
import { Coordinator } from '../src/coordinator/service.ts';
import { SweepService } from '../src/gen/aimcsweep/v1/sweep_pb.ts';
import { channelCredentials, createClient, isServiceError, serverCredentials } from '../src/rpc/bridge.ts';
import { openStore } from '../src/store/open.ts';

const dir = mkdtempSync(join(tmpdir(), 'aimc-coord-limits-'));
let n = 0;
const closers: Array<() => Promise<void>> = [];
after(async () => {
  for (const close of closers) await close();
});

async function coordinator(options: { maxRuns?: number; expandTimeoutMs?: number } = {}) {
  const file = join(dir, `c${n++}.db`);
  const db = openStore(file);
  const scheduler = new Scheduler(db, { file, leaseTtlMs: 60_000, maxLostLeases: 3, orphans: 'expire' });
  const logs: string[] = [];
  const c = new Coordinator({ scheduler, db, log: (l) => logs.push(l), ...options });
  const port = await c.listen('127.0.0.1:0', serverCredentials());
  const sweeps = createClient(SweepService, `127.0.0.1:${port}`, channelCredentials());
  closers.push(async () => {
    sweeps.$close();
    await c.close(200);
    scheduler.close();
    db.close();
  });
  return { sweeps, logs };
}

/** The call's gRPC status code (0 when it succeeded), its details and how long it took. */
async function outcome(p: Promise<unknown>): Promise<{ code: number; details: string; ms: number }> {
  const t0 = performance.now();
  try {
    await p;
    return { code: grpc.status.OK, details: '', ms: performance.now() - t0 };
  } catch (e) {
    if (!isServiceError(e)) throw e;
    return { code: e.code, details: e.details, ms: performance.now() - t0 };
  }
}

const BASE = 'base: { task: { in_size: 3, out_size: 2, n_samples: 5 }, epochs: 1 }';
const list = (n: number, from = 1): string => `[${Array.from({ length: n }, (_, i) => i + from).join(', ')}]`;

test(
  'an oversized Submit (a 20,000 x 20,000 grid) is INVALID_ARGUMENT quickly, and the coordinator answers a ' +
    'status call right after',
  async (t) => {
    const { sweeps } = await coordinator();
    const yaml = `name: big\n${BASE}\ngrid:\n  seed: ${list(20_000)}\n  device.n_states: ${list(20_000, 2)}\n`;
    const r = await outcome(sweeps.submit({ fileName: 'big.yaml', specYaml: yaml }, { deadline: Date.now() + 30_000 }));
    assert.equal(r.code, grpc.status.INVALID_ARGUMENT, r.details);
    assert.match(
      r.details,
      /^big\.yaml:4: the sweep expands to 400,000,000 combinations, more than the limit of 100,000 runs \(--max-runs\): grid\.seed \(line 4\) 20,000 values x grid\.device\.n_states \(line 5\) 20,000 values/,
    );
    t.diagnostic(`refused in ${r.ms.toFixed(0)} ms (${Buffer.byteLength(yaml)} bytes; the thread's start included)`);
    assert.ok(r.ms < 10_000, `quickly (${r.ms.toFixed(0)} ms)`);
    const s = await outcome(sweeps.getStatus({}, { deadline: Date.now() + 5000 }));
    assert.equal(s.code, grpc.status.OK);
    assert.ok(s.ms < 1000, `status right after: ${s.ms.toFixed(0)} ms`);
    // and a sweep within the limit is accepted by the same coordinator
    const ok = await sweeps.submit({ fileName: 'ok.yaml', specYaml: `name: ok\n${BASE}\ngrid: { seed: [1, 2] }\n` });
    assert.deepEqual([ok.sweepName, ok.totalRuns], ['ok', 2]);
  },
);

test('a Submit payload over 1 MiB is refused before it is parsed; the coordinator goes on', async () => {
  const { sweeps } = await coordinator();
  // 2 MB: within gRPC's message limit (16 MB), above the sweep limit: an unclosed flow list
  const r = await outcome(
    sweeps.submit({ fileName: 'flow.yaml', specYaml: `name: f\ngrid:\n  seed: [${'1, '.repeat(700_000)}` }),
  );
  assert.equal(r.code, grpc.status.INVALID_ARGUMENT);
  assert.match(r.details, /^flow\.yaml: 2,100,023 bytes, more than the 1,048,576 bytes \(1 MiB\) a sweep may have/);
  assert.ok(r.ms < 2000, `at once (${r.ms.toFixed(0)} ms)`);
  const bad = await outcome(sweeps.submit({ fileName: 'x'.repeat(1000), specYaml: 'name: x\n' }));
  assert.equal(bad.code, grpc.status.INVALID_ARGUMENT);
  assert.equal((await outcome(sweeps.getStatus({}))).code, grpc.status.OK);
});

test('a large sweep is expanded off the event loop: status calls are answered while it expands', async (t) => {
  const { sweeps } = await coordinator();
  // 30,000 combinations of digital SGD, whose device settings do not count: one run after merging
  const yaml = `name: wide\n${BASE}\ncases: [{ algorithm: sgd }]\ngrid:\n  device.n_states: ${list(30_000, 2)}\n`;
  let done = false;
  const submitted = outcome(
    sweeps.submit({ fileName: 'wide.yaml', specYaml: yaml }, { deadline: Date.now() + 120_000 }),
  ).finally(() => (done = true));
  // status calls answered before the submit's own answer: a loop blocked by the expansion would
  // answer none of them until the expansion ends (a count, not a wall-time ratio)
  const latencies: number[] = [];
  let answeredMeanwhile = 0;
  while (!done) {
    const s = await outcome(sweeps.getStatus({}, { deadline: Date.now() + 10_000 }));
    assert.equal(s.code, grpc.status.OK);
    latencies.push(s.ms);
    if (!done) answeredMeanwhile++;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const r = await submitted;
  assert.equal(r.code, grpc.status.OK, r.details);
  t.diagnostic(
    `submit took ${r.ms.toFixed(0)} ms; ${answeredMeanwhile} status calls answered meanwhile, ` +
      `the slowest ${Math.max(...latencies).toFixed(0)} ms`,
  );
  assert.ok(answeredMeanwhile >= 2, `status calls answered while the sweep expanded: ${answeredMeanwhile}`);
});

test(
  'a coordinator with a smaller --max-runs refuses above it; a sweep that expands too long is given up and the ' +
    'next one is served',
  async () => {
    const small = await coordinator({ maxRuns: 3 });
    const r = await outcome(
      small.sweeps.submit({ fileName: 's.yaml', specYaml: `name: s\n${BASE}\ngrid: { seed: [1, 2, 3, 4] }\n` }),
    );
    assert.equal(r.code, grpc.status.INVALID_ARGUMENT);
    assert.match(r.details, /s\.yaml:3: the sweep expands to 4 combinations, more than the limit of 3 runs/);

    const slow = await coordinator({ expandTimeoutMs: 1 });
    const late = await outcome(
      slow.sweeps.submit({ fileName: 't.yaml', specYaml: `name: t\n${BASE}\ngrid: { seed: ${list(2000)} }\n` }),
    );
    assert.equal(late.code, grpc.status.RESOURCE_EXHAUSTED);
    assert.match(late.details, /^t\.yaml: expanding the sweep took longer than 1 ms; split it into smaller sweeps/);
    assert.equal((await outcome(slow.sweeps.getStatus({}))).code, grpc.status.OK);
  },
);
