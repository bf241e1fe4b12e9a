/**
 * The gRPC coordinator in-process, driven by hand-written peers on 127.0.0.1: leases, expiry
 * and late results, authentication, and hostile or malformed input. Every case checks the
 * database afterwards and that the coordinator still serves.
 *
 * Time is the scheduler's injected clock: a lease expires when the test moves the clock past its
 * TTL and runs the coordinator's expiry, never by waiting; "nothing more was sent" is checked
 * behind a message the coordinator answers in order, never by waiting either.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import * as grpc from '@grpc/grpc-js';
import { Scheduler } from '../src/coordinator/scheduler.ts';
import { Coordinator } from '../src/coordinator/service.ts';
import { train } from '../src/core/train.ts';
import { NUMERICS_VERSION } from '../src/core/version.ts';
import { SweepService } from '../src/gen/aimcsweep/v1/sweep_pb.ts';
import { type SessionResponse, WorkerService } from '../src/gen/aimcsweep/v1/worker_pb.ts';
import { channelCredentials, createClient, isServiceError, serverCredentials } from '../src/rpc/bridge.ts';
import { resultToWire } from '../src/rpc/convert.ts';
import { openStore } from '../src/store/open.ts';
import { parseLeasedConfig } from '../src/worker/leased-config.ts';

const dir = mkdtempSync(join(tmpdir(), 'aimc-coord-'));
let n = 0;

const SWEEP = `name: tiny
base: { task: { in_size: 3, out_size: 2, n_samples: 5 }, epochs: 1 }
grid: { seed: [1, 2, 3, 4] }
`;

interface Harness {
  address: string;
  db: ReturnType<typeof openStore>;
  logs: string[];
  /** moves the scheduler's clock on by `ms` and runs the coordinator's lease expiry at once */
  elapse(ms: number): void;
  close(): Promise<void>;
}

const LEASE_TTL_MS = 60_000;

async function coordinator(options: { token?: string; maxMessageBytes?: number } = {}): Promise<Harness> {
  const file = join(dir, `c${n++}.db`);
  const db = openStore(file);
  let clock = Date.now();
  const scheduler = new Scheduler(db, {
    file,
    leaseTtlMs: LEASE_TTL_MS,
    maxLostLeases: 3,
    orphans: 'expire',
    now: () => clock,
  });
  const logs: string[] = [];
  const c = new Coordinator({
    scheduler,
    token: options.token,
    maxMessageBytes: options.maxMessageBytes,
    log: (l) => logs.push(l),
  });
  const port = await c.listen('127.0.0.1:0', serverCredentials());
  return {
    address: `127.0.0.1:${port}`,
    db,
    logs,
    elapse: (ms) => {
      clock += ms;
      c.expireLeases();
    },
    close: async () => {
      await c.close(200);
      scheduler.close();
      db.close();
    },
  };
}

const open: Harness[] = [];
after(async () => {
  for (const h of open) await h.close();
});

function clients(address: string, token?: string) {
  return {
    workers: createClient(WorkerService, address, channelCredentials(), { token }),
    sweeps: createClient(SweepService, address, channelCredentials(), { token }),
  };
}

/** Polls `check` until it holds (a deadline far beyond any wait, for a loaded machine). */
async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** A lease no worker holds: a heartbeat naming it is answered with a cancel, after everything sent before. */
const NOBODYS_LEASE = { runHash: 'e'.repeat(64), attempt: 1 };

/** A scripted worker: registers, opens a session, collects what the coordinator sends. */
async function fakeWorker(address: string, slots: number) {
  const { workers } = clients(address);
  const reg = await workers.register({
    name: 'fake',
    host: 'test',
    slots,
    packageVersion: 't',
    numericsVersion: NUMERICS_VERSION,
    nodeVersion: process.version,
  });
  const stream = workers.session();
  const received: SessionResponse[] = [];
  const arrived = new Set<() => void>();
  let status: grpc.StatusObject | undefined;
  stream.on('data', (m: SessionResponse) => {
    received.push(m);
    for (const wake of arrived) wake();
  });
  stream.on('error', () => {});
  stream.on('status', (s: grpc.StatusObject) => (status = s));
  stream.write({ kind: { case: 'hello', value: { workerId: reg.workerId } } });
  return {
    id: reg.workerId,
    stream,
    received,
    status: () => status,
    close: () => {
      stream.cancel();
      workers.$close();
    },
    /** The first `count` messages of `kind`, once they have arrived. */
    async next(kind: SessionResponse['kind']['case'], count = 1, timeoutMs = 30_000): Promise<SessionResponse[]> {
      const got = (): SessionResponse[] => received.filter((m) => m.kind.case === kind);
      if (got().length >= count) return got();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          arrived.delete(wake);
          reject(new Error(`no ${count} ${kind} messages: got ${received.map((m) => m.kind.case).join(',')}`));
        }, timeoutMs);
        const wake = (): void => {
          if (got().length < count) return;
          clearTimeout(timer);
          arrived.delete(wake);
          resolve(got());
        };
        arrived.add(wake);
      });
    },
    /**
     * Resolves once the coordinator has handled every message this worker sent before: it
     * answers a heartbeat naming a lease nobody holds with a cancel, in order on the stream.
     */
    async settled(): Promise<void> {
      const cancels = received.filter((m) => m.kind.case === 'cancel').length;
      stream.write({ kind: { case: 'heartbeat', value: { held: [NOBODYS_LEASE] } } });
      await this.next('cancel', cancels + 1);
    },
  };
}

const countOf = (db: Harness['db'], sql: string): number => (db.prepare(sql).get() as { n: number }).n;

/** The real result of a leased run (computed here, as a worker would). */
function computeResult(hash: string, configJson: string) {
  return resultToWire(train(parseLeasedConfig(hash, configJson)));
}

test(
  'a worker session leases runs, delivers results, and a duplicate or foreign report is refused ' + 'with a reason',
  async () => {
    const h = await coordinator();
    open.push(h);
    const { sweeps } = clients(h.address);
    const sub = await sweeps.submit({ fileName: 'tiny.yaml', specYaml: SWEEP });
    assert.deepEqual([sub.sweepName, sub.totalRuns, sub.newRuns], ['tiny', 4, 4]);

    const a = await fakeWorker(h.address, 2);
    const b = await fakeWorker(h.address, 2);
    a.stream.write({ kind: { case: 'slots', value: { free: 2, leasesReceived: 0 } } });
    const leases = await a.next('lease', 2);
    await a.settled(); // whatever the slots update made the coordinator send has arrived
    assert.equal(a.received.filter((m) => m.kind.case === 'lease').length, 2, 'no more leases than free slots');
    const grant = leases[0].kind.value as { lease: { runHash: string; attempt: number }; configJson: string };
    const result = computeResult(grant.lease.runHash, grant.configJson);

    // b reports on a's lease: foreign, refused
    b.stream.write({ kind: { case: 'result', value: { lease: grant.lease, result } } });
    const [bAck] = await b.next('ack');
    assert.equal(bAck.kind.case === 'ack' && bAck.kind.value.accepted, false);
    assert.match(bAck.kind.case === 'ack' ? bAck.kind.value.reason : '', /another worker/);
    // a reports: accepted; again: refused as done
    a.stream.write({ kind: { case: 'result', value: { lease: grant.lease, result } } });
    a.stream.write({ kind: { case: 'result', value: { lease: grant.lease, result } } });
    const acks = await a.next('ack', 2);
    assert.deepEqual(
      acks.map((m) => (m.kind.case === 'ack' ? m.kind.value.accepted : null)),
      [true, false],
    );
    // unknown run and wrong attempt
    const unknown = { runHash: 'f'.repeat(64), attempt: 1 };
    a.stream.write({ kind: { case: 'result', value: { lease: unknown, result } } });
    a.stream.write({
      kind: {
        case: 'failure',
        value: { lease: { ...(leases[1].kind.value as { lease: { runHash: string } }).lease, attempt: 7 }, error: 'x' },
      },
    });
    const more = await a.next('ack', 4);
    assert.match(more[2].kind.case === 'ack' ? more[2].kind.value.reason : '', /unknown run/);
    assert.match(more[3].kind.case === 'ack' ? more[3].kind.value.reason : '', /stale attempt 7/);

    assert.equal(countOf(h.db, 'SELECT count(*) AS n FROM results'), 1);
    assert.equal(countOf(h.db, "SELECT count(*) AS n FROM runs WHERE status = 'failed'"), 0);
    assert.ok(
      h.logs.some((l) => /rejected: lease held by another worker/.test(l)),
      'rejections are logged',
    );
    a.close();
    b.close();
  },
);

test(
  'a lease whose heartbeats stop expires and is re-leased as attempt 2; the late result of attempt ' + '1 is refused',
  async () => {
    const h = await coordinator();
    open.push(h);
    const { sweeps } = clients(h.address);
    await sweeps.submit({ fileName: 'tiny.yaml', specYaml: SWEEP });
    const silent = await fakeWorker(h.address, 1);
    silent.stream.write({ kind: { case: 'slots', value: { free: 1, leasesReceived: 0 } } });
    const [first] = await silent.next('lease');
    const grant = first.kind.value as { lease: { runHash: string; attempt: number }; configJson: string };
    assert.equal(grant.lease.attempt, 1);
    h.elapse(LEASE_TTL_MS - 1);
    assert.equal(
      countOf(h.db, "SELECT count(*) AS n FROM runs WHERE status = 'running'"),
      1,
      'the lease lives its TTL',
    );
    h.elapse(2); // no heartbeat for longer than the TTL: the lease expires
    assert.equal(countOf(h.db, "SELECT count(*) AS n FROM runs WHERE status = 'running'"), 0);

    const other = await fakeWorker(h.address, 4);
    other.stream.write({ kind: { case: 'slots', value: { free: 4, leasesReceived: 0 } } });
    const leases = await other.next('lease', 4);
    const again = leases
      .map((m) => m.kind.value as { lease: { runHash: string; attempt: number } })
      .find((g) => g.lease.runHash === grant.lease.runHash);
    assert.equal(again?.lease.attempt, 2);

    silent.stream.write({
      kind: {
        case: 'result',
        value: { lease: grant.lease, result: computeResult(grant.lease.runHash, grant.configJson) },
      },
    });
    const [ack] = await silent.next('ack');
    assert.equal(ack.kind.case === 'ack' && ack.kind.value.accepted, false);
    assert.match(ack.kind.case === 'ack' ? ack.kind.value.reason : '', /stale attempt 1 \(current 2\)/);
    // its heartbeat now names a lease it lost: the coordinator cancels it
    silent.stream.write({ kind: { case: 'heartbeat', value: { held: [grant.lease] } } });
    await silent.next('cancel');
    assert.equal(countOf(h.db, 'SELECT count(*) AS n FROM results'), 0);
    silent.close();
    other.close();
  },
);

test('with a token, calls without it get UNAUTHENTICATED and change nothing', async () => {
  const h = await coordinator({ token: 's3cret-token' });
  open.push(h);
  for (const token of [undefined, 'wrong']) {
    const { workers, sweeps } = clients(h.address, token);
    await assert.rejects(
      sweeps.submit({ fileName: 'x', specYaml: SWEEP }),
      (e) => isServiceError(e) && e.code === grpc.status.UNAUTHENTICATED,
    );
    await assert.rejects(
      workers.register({ name: 'x', host: 'x', slots: 1, numericsVersion: NUMERICS_VERSION }),
      (e) => isServiceError(e) && e.code === grpc.status.UNAUTHENTICATED,
    );
    await assert.rejects(sweeps.getStatus({}), (e) => isServiceError(e) && e.code === grpc.status.UNAUTHENTICATED);
    workers.$close();
    sweeps.$close();
  }
  assert.equal(countOf(h.db, 'SELECT count(*) AS n FROM sweeps'), 0);
  assert.equal(countOf(h.db, 'SELECT count(*) AS n FROM workers'), 0);
  const { sweeps } = clients(h.address, 's3cret-token');
  assert.equal((await sweeps.submit({ fileName: 'x', specYaml: SWEEP })).totalRuns, 4);
  sweeps.$close();
});

test('hostile input is refused with a status and leaves the database intact', async () => {
  const h = await coordinator({ maxMessageBytes: 64 * 1024 });
  open.push(h);
  const { workers, sweeps } = clients(h.address);
  const code = async (p: Promise<unknown>): Promise<number | undefined> => {
    try {
      await p;
      return undefined;
    } catch (e) {
      return isServiceError(e) ? e.code : -1;
    }
  };
  assert.equal(
    await code(sweeps.submit({ fileName: 'g.yaml', specYaml: 'name: g\ngrid: { device.colour: [red] }\n' })),
    grpc.status.INVALID_ARGUMENT,
  );
  assert.equal(
    await code(sweeps.submit({ fileName: 'g.yaml', specYaml: '{{{ not yaml' })),
    grpc.status.INVALID_ARGUMENT,
  );
  assert.equal(
    await code(sweeps.submit({ fileName: 'big.yaml', specYaml: `name: big\ndescription: ${'x'.repeat(100_000)}\n` })),
    grpc.status.RESOURCE_EXHAUSTED,
  );
  assert.equal(
    await code(workers.register({ name: 'old', host: 'h', slots: 1, numericsVersion: NUMERICS_VERSION + 1 })),
    grpc.status.FAILED_PRECONDITION,
  );
  assert.equal(
    await code(workers.register({ name: 'many', host: 'h', slots: 1_000_000, numericsVersion: NUMERICS_VERSION })),
    grpc.status.INVALID_ARGUMENT,
  );
  assert.equal(await code(sweeps.getStatus({})), undefined);

  // a session that skips hello, or names an unknown worker, is ended with a status
  const rude = workers.session();
  const ended = new Promise<grpc.StatusObject>((resolve) => rude.on('status', resolve));
  rude.on('error', () => {});
  rude.write({ kind: { case: 'result', value: { lease: { runHash: 'a'.repeat(64), attempt: 1 } } } });
  assert.equal((await ended).code, grpc.status.FAILED_PRECONDITION);
  const stranger = workers.session();
  const ended2 = new Promise<grpc.StatusObject>((resolve) => stranger.on('status', resolve));
  stranger.on('error', () => {});
  stranger.write({ kind: { case: 'hello', value: { workerId: 'w-nobody' } } });
  assert.equal((await ended2).code, grpc.status.NOT_FOUND);

  // a registered worker sending garbage: malformed refs ignored, implausible slots ignored, bad metrics refused
  await sweeps.submit({ fileName: 'tiny.yaml', specYaml: SWEEP });
  const w = await fakeWorker(h.address, 1);
  w.stream.write({ kind: { case: 'slots', value: { free: 1_000_000, leasesReceived: 0 } } });
  w.stream.write({ kind: { case: 'result', value: { lease: { runHash: '../../etc', attempt: 0 } } } });
  w.stream.write({ kind: { case: 'slots', value: { free: 1, leasesReceived: 0 } } });
  const [grant] = await w.next('lease');
  const g = grant.kind.value as { lease: { runHash: string; attempt: number } };
  w.stream.write({
    kind: {
      case: 'result',
      value: {
        lease: g.lease,
        result: { numericsVersion: NUMERICS_VERSION, history: [{ epoch: 0 }], weightsDigest: 'x' },
      },
    },
  });
  const [ack] = await w.next('ack');
  assert.match(ack.kind.case === 'ack' ? ack.kind.value.reason : '', /malformed result: train_loss is missing/);
  w.close();

  assert.equal(countOf(h.db, 'SELECT count(*) AS n FROM results'), 0);
  assert.equal(h.db.pragma('integrity_check', { simple: true }) as string, 'ok');
  assert.equal((await sweeps.getStatus({})).sweeps[0].counts?.running, 1, 'the lease stands until it expires');
  workers.$close();
  sweeps.$close();
});

test('a worker that closes its stream keeps its leases only until they expire; then they are re-leased', async () => {
  const h = await coordinator();
  open.push(h);
  const { sweeps } = clients(h.address);
  await sweeps.submit({ fileName: 'tiny.yaml', specYaml: SWEEP });
  const gone = await fakeWorker(h.address, 2);
  gone.stream.write({ kind: { case: 'slots', value: { free: 2, leasesReceived: 0 } } });
  const held = (await gone.next('lease', 2)).map((m) => (m.kind.value as { lease: { runHash: string } }).lease.runHash);
  gone.stream.end();
  gone.close();
  await until(
    'the coordinator to see the session closed',
    async () => (await sweeps.getStatus({})).workers.find((w) => w.workerId === gone.id)?.connected === false,
  );
  h.elapse(LEASE_TTL_MS - 1);
  assert.equal(
    countOf(h.db, "SELECT count(*) AS n FROM runs WHERE status = 'running'"),
    2,
    'leases outlive the stream for the TTL',
  );
  h.elapse(2);
  const next = await fakeWorker(h.address, 4);
  next.stream.write({ kind: { case: 'slots', value: { free: 4, leasesReceived: 0 } } });
  const leases = (await next.next('lease', 4)).map(
    (m) => (m.kind.value as { lease: { runHash: string; attempt: number } }).lease,
  );
  for (const hash of held) assert.equal(leases.find((l) => l.runHash === hash)?.attempt, 2);
  next.close();
  sweeps.$close();
});
