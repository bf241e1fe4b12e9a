/**
 * The scheduler without SQLite and without the OS: an in-memory RunQueue and WorkerRegistry
 * (src/store/queue.ts), a fake host (src/store/host.ts) and an injected clock drive leases,
 * heartbeats, expiry, reports and their events, and the gRPC coordinator on top of it. Then, on
 * SQLite, recording a 100,000-run sweep in slices keeps the event loop responsive.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { type SchedulerStore } from '../src/coordinator/scheduler-store.ts';
import { Scheduler, type SchedulerEvent } from '../src/coordinator/scheduler.ts';
import { Coordinator } from '../src/coordinator/service.ts';
import type { RunConfig } from '../src/core/config/run-config.ts';
import type { EpochMetrics } from '../src/core/tasks/run-result.ts';
import { NUMERICS_VERSION } from '../src/core/version.ts';
import { SweepService } from '../src/gen/aimcsweep/v1/sweep_pb.ts';
import { type SessionResponse, WorkerService } from '../src/gen/aimcsweep/v1/worker_pb.ts';
import type { StatusReport } from '../src/report/status.ts';
import { channelCredentials, createClient, serverCredentials } from '../src/rpc/bridge.ts';
import { StoreError } from '../src/store/errors.ts';
import type { HostProbe } from '../src/store/host.ts';
import { openStore } from '../src/store/open.ts';
import type { Provenance } from '../src/store/provenance.ts';
import {
  type Counts,
  type Lease,
  type LeaseRef,
  type OpenedSweep,
  type ReportedResult,
  type RunQueue,
  type RunStatus,
  type SweepHeader,
  type SweepInput,
  type SweepRecorded,
  type SweepRunInput,
  sweepRecorded,
  type Verdict,
  type WorkerRecord,
  type WorkerRegistry,
} from '../src/store/queue.ts';
import type { Acquired } from '../src/store/writer.ts';
import type { ExpandedRun, Expansion } from '../src/sweep/expand.ts';
import { parseSweepText } from '../src/sweep/spec.ts';

// ---- an in-memory store ---------------------------------------------------------------------

interface MemRun {
  hash: string;
  configJson: string;
  numericsVersion: number;
  status: RunStatus;
  attempt: number;
  worker: string | undefined;
  expiresAt: number | undefined;
  lostLeases: number;
  error: string | undefined;
  epochs: EpochMetrics[];
}

/** The RunQueue contract in memory: the same rules as the SQLite queue, in a few Maps. */
class MemoryQueue implements RunQueue {
  readonly runs = new Map<string, MemRun>(); // in insertion order, as the SQL queue's rowid
  readonly sweeps = new Map<string, { id: number; specJson: string; members: Map<string, number> }>();
  lock: { owner: string; started: string; token: string; refreshedAt: number } | undefined;
  private stopped = false;

  private write<T>(fn: () => T): T {
    if (this.stopped) throw new StoreError('mem: this queue writes no more');
    return fn();
  }

  private sweepById(id: number) {
    for (const s of this.sweeps.values()) if (s.id === id) return s;
    throw new Error(`no sweep ${id}`);
  }

  recordSweep(s: SweepInput, now: number): SweepRecorded {
    const opened = this.openSweep(s, now);
    return sweepRecorded(opened, s.runs, this.addSweepRuns(opened.sweepId, s.runs, 0, now));
  }

  openSweep(s: SweepHeader, _now: number): OpenedSweep {
    return this.write(() => {
      const existing = this.sweeps.get(s.name);
      if (!existing) {
        const id = this.sweeps.size + 1;
        this.sweeps.set(s.name, { id, specJson: s.specJson, members: new Map() });
        return { sweepId: id, definitionChanged: false, before: new Set(), existed: false };
      }
      const before = new Set(existing.members.keys());
      const definitionChanged = existing.specJson !== s.specJson;
      existing.specJson = s.specJson;
      if (definitionChanged) existing.members.clear();
      return { sweepId: existing.id, definitionChanged, before, existed: true };
    });
  }

  addSweepRuns(sweepId: number, runs: readonly SweepRunInput[], first: number, _now: number): number {
    return this.write(() => {
      const sweep = this.sweepById(sweepId);
      let added = 0;
      runs.forEach((r, i) => {
        if (!this.runs.has(r.hash)) {
          added++;
          this.runs.set(r.hash, {
            hash: r.hash,
            configJson: r.configJson,
            numericsVersion: r.numericsVersion,
            status: 'queued',
            attempt: 0,
            worker: undefined,
            expiresAt: undefined,
            lostLeases: 0,
            error: undefined,
            epochs: [],
          });
        }
        if (!sweep.members.has(r.hash)) sweep.members.set(r.hash, first + i);
      });
      return added;
    });
  }

  counts(sweepId?: number): Counts {
    const counts: Counts = { queued: 0, running: 0, done: 0, failed: 0 };
    const members = sweepId === undefined ? undefined : this.sweepById(sweepId).members;
    for (const r of this.runs.values()) if (!members || members.has(r.hash)) counts[r.status]++;
    return counts;
  }

  runError(hash: string): string | undefined {
    const r = this.runs.get(hash);
    return r?.status === 'failed' ? (r.error ?? 'failed') : undefined;
  }

  retryFailed(sweepId: number): number {
    return this.write(() => {
      let n = 0;
      for (const hash of this.sweepById(sweepId).members.keys()) {
        const r = this.runs.get(hash)!;
        if (r.status !== 'failed') continue;
        Object.assign(r, { status: 'queued', error: undefined, lostLeases: 0, worker: undefined });
        n++;
      }
      return n;
    });
  }

  lease(worker: string, max: number, now: number, ttlMs: number, sweepId?: number): Lease[] {
    return this.write(() => {
      const members = sweepId === undefined ? undefined : this.sweepById(sweepId).members;
      const inSomeSweep = (h: string): boolean => [...this.sweeps.values()].some((s) => s.members.has(h));
      const leases: Lease[] = [];
      for (const r of this.runs.values()) {
        if (leases.length >= max) break;
        if (r.status !== 'queued' || !(members ? members.has(r.hash) : inSomeSweep(r.hash))) continue;
        Object.assign(r, {
          status: 'running',
          attempt: r.attempt + 1,
          worker,
          expiresAt: now + ttlMs,
          error: undefined,
        });
        leases.push({ hash: r.hash, attempt: r.attempt, configJson: r.configJson });
      }
      return leases;
    });
  }

  heartbeat(worker: string, held: LeaseRef[], now: number, ttlMs: number): LeaseRef[] {
    return this.write(() =>
      held.filter((l) => {
        const r = this.runs.get(l.hash);
        if (!r || r.attempt !== l.attempt || r.worker !== worker || r.status !== 'running') return true;
        r.expiresAt = now + ttlMs;
        return false;
      }),
    );
  }

  private notHolder(worker: string, ref: LeaseRef): string | undefined {
    const r = this.runs.get(ref.hash);
    if (!r) return 'unknown run';
    if (r.attempt !== ref.attempt) return `stale attempt ${ref.attempt} (current ${r.attempt})`;
    if (r.status !== 'running') return `run is ${r.status}, not leased`;
    if (r.worker !== worker) return 'lease held by another worker';
    return undefined;
  }

  private verdict(worker: string, ref: LeaseRef, apply: (r: MemRun) => void): Verdict {
    return this.write(() => {
      const reason = this.notHolder(worker, ref);
      if (reason) return { accepted: false, reason };
      apply(this.runs.get(ref.hash)!);
      return { accepted: true };
    });
  }

  progress(worker: string, ref: LeaseRef, m: EpochMetrics): Verdict {
    return this.verdict(worker, ref, (r) => r.epochs.push(m));
  }

  complete(worker: string, ref: LeaseRef, result: ReportedResult): Verdict {
    if (!Array.isArray(result.history) || result.history.length === 0)
      return { accepted: false, reason: 'malformed result: no history' };
    const diverged = result.history.some((m) => !Number.isFinite(m.train_loss));
    return this.verdict(worker, ref, (r) =>
      Object.assign(r, {
        status: diverged ? 'failed' : 'done',
        error: diverged ? 'diverged' : undefined,
        expiresAt: undefined,
        epochs: result.history,
      }),
    );
  }

  fail(worker: string, ref: LeaseRef, error: string): Verdict {
    return this.verdict(worker, ref, (r) => Object.assign(r, { status: 'failed', error, expiresAt: undefined }));
  }

  release(worker: string, ref: LeaseRef): Verdict {
    return this.verdict(worker, ref, (r) =>
      Object.assign(r, { status: 'queued', worker: undefined, expiresAt: undefined }),
    );
  }

  expireLeases(now: number, maxLostLeases: number): { requeued: number; failed: number } {
    return this.write(() => {
      let requeued = 0;
      let failed = 0;
      for (const r of this.runs.values()) {
        if (r.status !== 'running' || r.expiresAt === undefined || r.expiresAt >= now) continue;
        r.lostLeases++;
        r.expiresAt = undefined;
        if (r.lostLeases >= maxLostLeases) {
          Object.assign(r, { status: 'failed', error: `lease expired ${r.lostLeases} times (last on ${r.worker})` });
          failed++;
        } else {
          Object.assign(r, { status: 'queued', worker: undefined });
          requeued++;
        }
      }
      return { requeued, failed };
    });
  }

  requeueOrphans(): number {
    return this.write(() => {
      let n = 0;
      for (const r of this.runs.values()) {
        if (r.status !== 'running') continue;
        Object.assign(r, { status: 'queued', worker: undefined, expiresAt: undefined });
        n++;
      }
      return n;
    });
  }

  acquireWriterLock(
    owner: string,
    now: number,
    staleMs: number,
    file: string,
    alive: (o: string, s: string) => boolean | undefined,
    started = '',
  ): Acquired {
    const held = this.lock;
    if (held && held.owner !== owner) {
      const verdict = alive(held.owner, held.started);
      if (verdict === true || (verdict === undefined && now - held.refreshedAt < staleMs))
        throw new StoreError(`${file}: in use by another coordinator (${held.owner})`);
    }
    this.lock = { owner, started, token: `t${now}`, refreshedAt: now };
    return { token: this.lock.token };
  }

  refreshWriterLock(owner: string, now: number): void {
    if (this.lock?.owner === owner) this.lock.refreshedAt = now;
  }

  releaseWriterLock(owner: string): boolean {
    this.stopped = true;
    if (this.lock?.owner !== owner) return false;
    this.lock = undefined;
    return true;
  }
}

class MemoryWorkers implements WorkerRegistry {
  readonly rows = new Map<string, WorkerRecord>();
  private readonly queue: MemoryQueue;
  constructor(queue: MemoryQueue) {
    this.queue = queue;
  }
  register(w: { id: string; name: string; host: string; slots: number; provenanceId: number }, now: number): void {
    this.rows.set(w.id, {
      id: w.id,
      name: w.name,
      host: w.host,
      slots: w.slots,
      free_slots: 0,
      connected: 0,
      registered_at: now,
      last_heartbeat_at: now,
      provenance_id: w.provenanceId,
    });
  }
  get(id: string): WorkerRecord | undefined {
    return this.rows.get(id);
  }
  setConnected(id: string, connected: boolean, now: number): void {
    const w = this.rows.get(id);
    if (w) Object.assign(w, { connected: connected ? 1 : 0, last_heartbeat_at: now });
  }
  touch(id: string, now: number, freeLeases?: number): void {
    const w = this.rows.get(id);
    if (w) Object.assign(w, { last_heartbeat_at: now }, freeLeases === undefined ? {} : { free_slots: freeLeases });
  }
  disconnectAll(): void {
    for (const w of this.rows.values()) w.connected = 0;
  }
  runningByWorker(): Map<string, number> {
    const m = new Map<string, number>();
    for (const r of this.queue.runs.values())
      if (r.status === 'running' && r.worker) m.set(r.worker, (m.get(r.worker) ?? 0) + 1);
    return m;
  }
}

function memoryStore(): SchedulerStore & { queue: MemoryQueue; workers: MemoryWorkers; provenances: Provenance[] } {
  const queue = new MemoryQueue();
  const workers = new MemoryWorkers(queue);
  const provenances: Provenance[] = [];
  return {
    queue,
    workers,
    provenances,
    provenanceId: (p) => provenances.push(p),
    status: (now): StatusReport => ({
      now,
      sweeps: [...queue.sweeps.entries()].map(([name, s]) => {
        const c = queue.counts(s.id);
        const total = c.queued + c.running + c.done + c.failed;
        return {
          name,
          total,
          ...c,
          progress: total === 0 ? 100 : (100 * (c.done + c.failed)) / total,
          runsPerMinute: 0,
          etaMs: null,
        };
      }),
      workers: [...workers.rows.values()].map((w) => ({
        ...w,
        connected: w.connected === 1,
        heartbeatAgeMs: now - w.last_heartbeat_at,
      })),
    }),
    sweepRunHashes: (name) => {
      const s = queue.sweeps.get(name);
      return s === undefined ? undefined : [...s.members.keys()];
    },
  };
}

/** A machine that is not this one: the scheduler must not ask the real OS anything. */
const FAKE_HOST: HostProbe = {
  hostname: () => 'sim-host',
  pid: 4242,
  exists: () => false,
  stat: () => undefined,
};

const PROVENANCE: Provenance = {
  package_version: 'test',
  numerics_version: NUMERICS_VERSION,
  git_commit: '',
  node_version: 'v0',
  host: 'sim-host',
  platform: 'sim',
};

const hashOf = (text: string): string => createHash('sha256').update(text).digest('hex');

/** A sweep and an expansion of `n` runs made up here: configs as canonical JSON text, nothing expanded. */
function syntheticSweep(
  name: string,
  n: number,
  pad = 0,
): { spec: ReturnType<typeof parseSweepText>; expansion: Expansion } {
  const spec = parseSweepText(`name: ${name}\nbase: { epochs: 1 }\n`, `${name}.yaml`);
  const filler = 'x'.repeat(pad);
  const runs: ExpandedRun[] = Array.from({ length: n }, (_, i) => {
    const configJson = `{"filler":"${filler}","seed":${i}}`;
    // the config object is not what is recorded: the expansion's canonical JSON is
    return { hash: hashOf(configJson), config: {} as RunConfig, configJson, assignments: { seed: i } };
  });
  return { spec, expansion: { runs, combinations: n, excluded: 0, merged: 0 } };
}

function history(loss: number): EpochMetrics[] {
  return [
    { epoch: 0, train_loss: 2 * loss, pulses: {} },
    { epoch: 1, train_loss: loss, pulses: { W: 3 } },
  ];
}
const result = (loss: number): ReportedResult => ({
  numerics_version: NUMERICS_VERSION,
  history: history(loss),
  weights_digest: 'd',
});

// ---- the scheduler over the in-memory store --------------------------------------------------

test(
  'the scheduler drives an in-memory RunQueue: leases, heartbeats, expiry by the injected clock, reports and ' +
    'their events',
  async () => {
    const store = memoryStore();
    let clock = 1_000;
    const s = new Scheduler(store, {
      file: 'mem',
      now: () => clock,
      host: FAKE_HOST,
      provenance: PROVENANCE,
      leaseTtlMs: 1_000,
      maxLostLeases: 2,
    });
    assert.equal(s.owner, 'sim-host:4242', 'its identity comes from the host probe');
    assert.equal(store.queue.lock?.owner, 'sim-host:4242');
    assert.deepEqual(store.provenances, [PROVENANCE]);
    const events: SchedulerEvent[] = [];
    s.events.on('event', (e) => events.push(e));

    const { spec, expansion } = syntheticSweep('mem', 4);
    const rec = await s.submitInSlices(spec, expansion);
    assert.deepEqual(rec, { sweepId: 1, total: 4, newRuns: 4, definitionChanged: false, joined: 0, left: 0 });
    assert.equal(
      store.queue.runs.get(expansion.runs[2].hash)?.configJson,
      expansion.runs[2].configJson,
      "the expansion's canonical JSON is recorded",
    );
    assert.deepEqual(s.submit(spec, expansion), { ...rec, newRuns: 0 }, 'submitting again adds nothing');

    const leased = s.lease('w1', 2, rec.sweepId);
    assert.deepEqual(
      leased.map((l) => [l.hash, l.attempt, l.configJson]),
      expansion.runs.slice(0, 2).map((r) => [r.hash, 1, r.configJson]),
    );
    const [a, b] = leased.map((l): LeaseRef => ({ hash: l.hash, attempt: l.attempt }));
    assert.deepEqual(
      events.map((e) => e.kind),
      ['leased', 'leased'],
    );
    clock += 600;
    assert.deepEqual(
      s.heartbeat('w1', [a, { hash: 'f'.repeat(64), attempt: 1 }]),
      [{ hash: 'f'.repeat(64), attempt: 1 }],
      'a lease it does not hold comes back to cancel',
    );
    clock += 500; // b: 1,100 ms since its lease; a: 500 since its heartbeat
    assert.deepEqual(s.expireLeases(), { requeued: 1, failed: 0 });
    assert.deepEqual(events.at(-1), { kind: 'requeued', count: 1, failed: 0, why: 'lease expired' });

    // b's late result is refused, with an event naming why; a's is accepted
    assert.deepEqual(s.complete('w1', b, result(1)), { accepted: false, reason: 'run is queued, not leased' });
    assert.deepEqual(events.at(-1), {
      kind: 'rejected',
      worker: 'w1',
      lease: b,
      what: 'result',
      reason: 'run is queued, not leased',
    });
    assert.deepEqual(s.progress('w1', a, history(1)[1]), { accepted: true });
    assert.deepEqual(s.complete('w2', a, result(1)), { accepted: false, reason: 'lease held by another worker' });
    assert.deepEqual(s.complete('w1', a, result(0.5)), { accepted: true });
    assert.deepEqual(events.at(-1), {
      kind: 'finished',
      worker: 'w1',
      lease: a,
      status: 'done',
      error: undefined,
      final: history(0.5)[1],
    });

    // the rest: one fails, one is handed back and leased again as attempt 2, b loses its second lease
    const more = s.lease('w2', 3, rec.sweepId);
    assert.deepEqual(
      more.map((l) => [l.hash, l.attempt]),
      [
        [b.hash, 2],
        [expansion.runs[2].hash, 1],
        [expansion.runs[3].hash, 1],
      ],
    );
    assert.deepEqual(s.fail('w2', more[1], 'boom'), { accepted: true });
    assert.equal(s.counts(rec.sweepId).failed, 1);
    assert.deepEqual(s.release('w2', more[2]), { accepted: true });
    clock += 1_001;
    assert.deepEqual(s.expireLeases(), { requeued: 0, failed: 1 }, "b's second lost lease fails it");
    assert.deepEqual(s.counts(rec.sweepId), { queued: 1, running: 0, done: 1, failed: 2 });
    assert.equal(s.retryFailed(rec.sweepId), 2);
    assert.equal(s.lease('w3', 9, rec.sweepId).length, 3);

    // the coordinator's worker writes go through the scheduler too
    s.registerWorker({ id: 'w-1', name: 'one', host: 'h', slots: 2, provenance: PROVENANCE });
    s.workerConnected('w-1', true);
    clock += 5;
    s.workerSeen('w-1', 3);
    assert.deepEqual(s.worker('w-1'), {
      id: 'w-1',
      name: 'one',
      host: 'h',
      slots: 2,
      free_slots: 3,
      connected: 1,
      registered_at: 3_101,
      last_heartbeat_at: 3_106,
      provenance_id: 2,
    });
    assert.deepEqual(s.runningByWorker(), new Map([['w3', 3]]));

    s.close();
    assert.equal(store.queue.lock, undefined, 'closing releases the lock');
    assert.throws(() => s.lease('w1', 1), StoreError, 'and the queue takes no more writes');
  },
);

test(
  'a second scheduler on the same store is refused while the first lives on the fake host, and takes over once ' +
    'it is gone',
  () => {
    const store = memoryStore();
    let alive = true;
    const first = new Scheduler(store, {
      file: 'mem',
      now: () => 0,
      host: FAKE_HOST,
      provenance: PROVENANCE,
      identity: { owner: 'sim-host:1', started: '' },
    });
    const ownerAlive = (owner: string): boolean | undefined => (owner === 'sim-host:1' ? alive : undefined);
    assert.throws(
      () => new Scheduler(store, { file: 'mem', now: () => 0, host: FAKE_HOST, provenance: PROVENANCE, ownerAlive }),
      /mem: in use by another coordinator \(sim-host:1\)/,
    );
    alive = false;
    const second = new Scheduler(store, {
      file: 'mem',
      now: () => 0,
      host: FAKE_HOST,
      provenance: PROVENANCE,
      ownerAlive,
    });
    assert.equal(store.queue.lock?.owner, 'sim-host:4242');
    second.close();
    first.close();
  },
);

test('the coordinator serves sweeps and workers from the in-memory store: no SQLite anywhere', async (t) => {
  const store = memoryStore();
  const scheduler = new Scheduler(store, { file: 'mem', host: FAKE_HOST, provenance: PROVENANCE, orphans: 'expire' });
  const c = new Coordinator({ scheduler });
  const port = await c.listen('127.0.0.1:0', serverCredentials());
  const address = `127.0.0.1:${port}`;
  const sweeps = createClient(SweepService, address, channelCredentials());
  const workers = createClient(WorkerService, address, channelCredentials());
  t.after(async () => {
    sweeps.$close();
    workers.$close();
    await c.close(200);
    scheduler.close();
  });

  const sub = await sweeps.submit({
    fileName: 'mem.yaml',
    specYaml:
      'name: mem\nbase: { task: { in_size: 3, out_size: 2, n_samples: 5 }, epochs: 1 }\ngrid: { seed: [1, 2] }\n',
  });
  assert.deepEqual([sub.sweepName, sub.totalRuns, sub.newRuns, sub.doneRuns], ['mem', 2, 2, 0]);
  const { workerId } = await workers.register({
    name: 'sim',
    host: 'sim-host',
    slots: 1,
    packageVersion: 't',
    numericsVersion: NUMERICS_VERSION,
    nodeVersion: 'v0',
  });
  assert.equal(store.workers.get(workerId)?.name, 'sim');

  const session = workers.session();
  session.on('error', () => {});
  const messages: SessionResponse[] = [];
  const waiting = new Set<() => void>();
  session.on('data', (m: SessionResponse) => {
    messages.push(m);
    for (const check of waiting) check();
  });
  const got = (kind: string, count: number): Promise<SessionResponse[]> =>
    new Promise((resolve) => {
      const check = (): void => {
        const of = messages.filter((m) => m.kind.case === kind);
        if (of.length < count) return;
        waiting.delete(check);
        resolve(of);
      };
      waiting.add(check);
      check();
    });
  const leases = got('lease', 1);
  session.write({ kind: { case: 'hello', value: { workerId } } });
  session.write({ kind: { case: 'slots', value: { free: 1, leasesReceived: 0 } } });
  const [grant] = await leases;
  const lease = (grant.kind.value as { lease: { runHash: string; attempt: number } }).lease;
  const acks = got('ack', 1);
  session.write({
    kind: {
      case: 'result',
      value: {
        lease,
        result: {
          numericsVersion: NUMERICS_VERSION,
          history: [{ epoch: 0, trainLoss: 1, pulses: {} }],
          weightsDigest: 'd',
        },
      },
    },
  });
  const [ack] = await acks;
  assert.deepEqual(ack.kind.case === 'ack' ? [ack.kind.value.accepted, ack.kind.value.reason] : [], [true, '']);
  const status = await sweeps.getStatus({});
  const counts = status.sweeps[0].counts;
  assert.deepEqual([counts?.queued, counts?.running, counts?.done, counts?.failed], [1, 0, 1, 0]);
  assert.equal(status.workers[0].connected, true);
  assert.equal(store.queue.runs.get(lease.runHash)?.status, 'done');
  session.cancel();
  await assert.rejects(
    sweeps.submit({ fileName: 'bad.yaml', specYaml: 'name: bad\ngrid: { device.colour: [red] }\n' }),
    (e: unknown) => (e as grpc.ServiceError).code === grpc.status.INVALID_ARGUMENT,
  );
});

// ---- recording a large sweep -----------------------------------------------------------------

test(
  'recording a 100,000-run sweep in slices keeps the event loop responsive; every run is recorded once',
  { timeout: 300_000 },
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'aimc-sched-'));
    const file = join(dir, 'big.db');
    const db = openStore(file);
    const s = new Scheduler(db, { file });
    t.after(() => {
      s.close();
      db.close();
    });
    const { spec, expansion } = syntheticSweep('big', 100_000, 600);
    const loop = monitorEventLoopDelay({ resolution: 10 });
    loop.enable();
    const t0 = performance.now();
    const rec = await s.submitInSlices(spec, expansion);
    const ms = performance.now() - t0;
    loop.disable();
    const longestPauseMs = loop.max / 1e6;
    t.diagnostic(
      `recorded 100,000 runs in ${ms.toFixed(0)} ms; the event loop's longest pause ` +
        `${longestPauseMs.toFixed(0)} ms (p99 ${(loop.percentile(99) / 1e6).toFixed(0)} ms)`,
    );
    assert.deepEqual([rec.total, rec.newRuns], [100_000, 100_000]);
    assert.deepEqual(s.counts(rec.sweepId), { queued: 100_000, running: 0, done: 0, failed: 0 });
    const row = db
      .prepare('SELECT r.config_json, s.position FROM runs r JOIN sweep_runs s ON s.run_hash = r.hash WHERE r.hash = ?')
      .get(expansion.runs[76_543].hash);
    assert.deepEqual(row, { config_json: expansion.runs[76_543].configJson, position: 76_543 });
    // one transaction of all of it (Scheduler.submit) holds the loop for seconds: 3 to 7 s on a 2-core machine
    assert.ok(longestPauseMs < 1_500, `the event loop paused ${longestPauseMs.toFixed(0)} ms`);
    assert.equal(
      db.pragma('wal_autocheckpoint', { simple: true }),
      1000,
      "the store's tuning for the recording is undone",
    );
    // recorded again: nothing new, still in slices
    const again = await s.submitInSlices(spec, expansion);
    assert.deepEqual([again.total, again.newRuns, again.definitionChanged], [100_000, 0, false]);
  },
);

test('recordings of the same sweep asked for at once run one after the other', async () => {
  const store = memoryStore();
  const s = new Scheduler(store, {
    file: 'mem',
    now: () => 0,
    host: FAKE_HOST,
    provenance: PROVENANCE,
    recordSliceMs: 0.001,
  });
  const first = syntheticSweep('twice', 300);
  const second = syntheticSweep('twice', 200);
  second.spec.base = { epochs: 2 }; // another definition: the second recording replaces the membership
  const [r1, r2] = await Promise.all([
    s.submitInSlices(first.spec, first.expansion),
    s.submitInSlices(second.spec, second.expansion),
  ]);
  assert.deepEqual([r1.total, r1.newRuns, r1.definitionChanged], [300, 300, false]);
  assert.deepEqual([r2.total, r2.newRuns, r2.definitionChanged, r2.joined, r2.left], [200, 0, true, 0, 100]);
  assert.equal(store.queue.sweeps.get('twice')?.members.size, 200);
  s.close();
});
