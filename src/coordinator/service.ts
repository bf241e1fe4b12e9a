/**
 * The gRPC coordinator: WorkerService (registration, one session stream per worker) and
 * SweepService (submit, status, watch) on top of the Scheduler, the database's single writer.
 *
 * Nothing a peer sends is trusted: lease references are checked against the current attempt
 * and its holder, results are validated by the store, configs only ever come from the
 * database, and protocol violations end the offending stream with a status, never the server.
 */
import { randomBytes } from 'node:crypto';
import type { MessageInitShape } from '@bufbuild/protobuf';
import * as grpc from '@grpc/grpc-js';
import { ConfigError } from '../core/config/schema.ts';
import { NUMERICS_VERSION } from '../core/version.ts';
import { type RunStatus as RunStatusWire, RunStatus } from '../gen/aimcsweep/v1/run_pb.ts';
import { SweepService, type WatchRequest, type WatchResponseSchema } from '../gen/aimcsweep/v1/sweep_pb.ts';
import type { RegisterRequest, SessionRequest, SessionResponseSchema } from '../gen/aimcsweep/v1/worker_pb.ts';
import { WorkerService } from '../gen/aimcsweep/v1/worker_pb.ts';
import { statusReport, type SweepStatus } from '../report/status.ts';
import { addService, bindServer, errorToStatus, RpcError, type ServerBidiCall } from '../rpc/bridge.ts';
import { epochFromWire, leaseFromWire, leaseToWire, resultFromWire } from '../rpc/convert.ts';
import type { Db } from '../store/open.ts';
import { provenanceId } from '../store/provenance.ts';
import { findSweep, sweepRunHashes } from '../store/results-read.ts';
import type { LeaseRef, Verdict } from '../store/run-queue.ts';
import { WorkerRegistry } from '../store/workers.ts';
import { DEFAULT_MAX_RUNS } from '../sweep/expand.ts';
import { ExpanderError, SweepExpander } from '../sweep/expand-thread.ts';
import { MAX_SWEEP_BYTES, SweepError } from '../sweep/spec.ts';
import type { Scheduler, SchedulerEvent } from './scheduler.ts';

export interface CoordinatorOptions {
  scheduler: Scheduler;
  db: Db;
  /** shared secret every call must carry (bearer token) */
  token?: string;
  /** how often workers heartbeat (default a third of the lease TTL) */
  heartbeatIntervalMs?: number;
  /** largest message accepted from a peer (bytes) */
  maxMessageBytes?: number;
  /** Submit refuses sweeps of more combinations than this (default DEFAULT_MAX_RUNS) */
  maxRuns?: number;
  /** Submit gives up on a sweep still expanding after this long (ms; default 120 s) */
  expandTimeoutMs?: number;
  log?: (line: string) => void;
  now?: () => number;
}

type SessionCall = ServerBidiCall<SessionRequest, MessageInitShape<typeof SessionResponseSchema>>;
type WatchCall = grpc.ServerWritableStream<WatchRequest, MessageInitShape<typeof WatchResponseSchema>>;

/** One connected worker session. */
interface Session {
  worker: string;
  call: SessionCall;
  /** free slots the worker last announced, and how many grants it had received then */
  free: number;
  received: number;
  /** grants written on this session */
  sent: number;
  draining: boolean;
}

const MAX_SLOTS = 4096;
const MAX_TEXT = 256;
export const DEFAULT_MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

function statusOf(s: SweepStatus): { name: string; counts: { queued: number; running: number; done: number; failed: number }; runsPerMinute: number; etaSeconds?: number } {
  return {
    name: s.name,
    counts: { queued: s.queued, running: s.running, done: s.done, failed: s.failed },
    runsPerMinute: s.runsPerMinute,
    etaSeconds: s.etaMs === null ? undefined : s.etaMs / 1000,
  };
}

export class Coordinator {
  private readonly o: CoordinatorOptions;
  private readonly scheduler: Scheduler;
  private readonly workers: WorkerRegistry;
  private readonly now: () => number;
  private readonly log: (line: string) => void;
  private readonly heartbeatIntervalMs: number;
  private readonly sessions = new Map<string, Session>();
  private readonly server: grpc.Server;
  private readonly expiryTimer: NodeJS.Timeout;
  private readonly watchers = new Set<() => void>();
  private readonly expander: SweepExpander;

  constructor(o: CoordinatorOptions) {
    this.o = o;
    this.scheduler = o.scheduler;
    this.workers = new WorkerRegistry(o.db);
    this.workers.disconnectAll();
    this.now = o.now ?? Date.now;
    this.log = o.log ?? (() => {});
    this.heartbeatIntervalMs = o.heartbeatIntervalMs ?? Math.max(100, Math.floor(this.scheduler.leaseTtlMs / 3));
    // parsing and expanding a submitted sweep runs on a thread: the event loop never waits on it
    this.expander = new SweepExpander({ maxRuns: o.maxRuns ?? DEFAULT_MAX_RUNS, timeoutMs: o.expandTimeoutMs });
    const max = o.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    this.server = new grpc.Server({ 'grpc.max_receive_message_length': max, 'grpc.max_send_message_length': max });
    const onError = (e: unknown, method: string): void => this.log(`${method}: ${e instanceof Error ? e.message : String(e)}`);
    addService(
      this.server,
      WorkerService,
      { register: (req) => this.register(req), session: (call) => this.session(call) },
      { token: o.token, onError },
    );
    addService(
      this.server,
      SweepService,
      {
        submit: (req) => this.submit(req.fileName, req.specYaml),
        getStatus: () => this.status(),
        watch: (call) => this.watch(call),
      },
      { token: o.token, onError },
    );
    this.expiryTimer = setInterval(() => this.expire(), Math.max(50, Math.min(1000, this.scheduler.leaseTtlMs / 4)));
    this.expiryTimer.unref();
  }

  /** Binds to `address` (host:port; port 0 picks one) and serves; resolves to the port. */
  listen(address: string, credentials: grpc.ServerCredentials): Promise<number> {
    return bindServer(this.server, address, credentials);
  }

  /** Stops serving: open sessions and watches are ended; leases stay in the database. */
  async close(graceMs = 2000): Promise<void> {
    clearInterval(this.expiryTimer);
    await this.expander.close();
    for (const stop of this.watchers) stop();
    for (const s of this.sessions.values()) s.call.end();
    await new Promise<void>((resolve) => {
      const force = setTimeout(() => {
        this.server.forceShutdown();
        resolve();
      }, graceMs);
      this.server.tryShutdown(() => {
        clearTimeout(force);
        resolve();
      });
    });
    for (const s of this.sessions.values()) this.workers.setConnected(s.worker, false, this.now());
    this.sessions.clear();
  }

  // ---- WorkerService ---------------------------------------------------------------------

  private register(req: RegisterRequest): { workerId: string; leaseTtlMs: number; heartbeatIntervalMs: number } {
    if (req.numericsVersion !== NUMERICS_VERSION) {
      throw new RpcError(grpc.status.FAILED_PRECONDITION, `worker computes numerics version ${req.numericsVersion}, this coordinator's runs need ${NUMERICS_VERSION}: install the same aimc-sweep version`);
    }
    if (req.slots < 1 || req.slots > MAX_SLOTS) throw new RpcError(grpc.status.INVALID_ARGUMENT, `slots: expected 1..${MAX_SLOTS}, got ${req.slots}`);
    for (const [field, value] of [['name', req.name], ['host', req.host], ['package_version', req.packageVersion], ['node_version', req.nodeVersion]] as const) {
      if (value.length > MAX_TEXT) throw new RpcError(grpc.status.INVALID_ARGUMENT, `${field}: longer than ${MAX_TEXT} characters`);
    }
    const id = `w-${randomBytes(6).toString('hex')}`;
    const name = req.name || id;
    const provenance = provenanceId(this.o.db, {
      package_version: req.packageVersion || 'unknown',
      numerics_version: req.numericsVersion,
      git_commit: '',
      node_version: req.nodeVersion || 'unknown',
      host: req.host || '?',
      platform: '',
    });
    this.workers.register({ id, name, host: req.host || '?', slots: req.slots, provenanceId: provenance }, this.now());
    this.log(`worker ${id} registered: ${name} on ${req.host}, ${req.slots} slots`);
    return { workerId: id, leaseTtlMs: this.scheduler.leaseTtlMs, heartbeatIntervalMs: this.heartbeatIntervalMs };
  }

  private session(call: SessionCall): void {
    let session: Session | undefined;
    const end = (code: grpc.status, details: string): void => {
      this.log(`session ${session?.worker ?? '(no hello)'} ended: ${details}`);
      if (!call.writableEnded && !call.destroyed) call.emit('error', errorToStatus(new RpcError(code, details)));
      detach();
    };
    const detach = (): void => {
      if (session && this.sessions.get(session.worker) === session) {
        this.sessions.delete(session.worker);
        this.workers.setConnected(session.worker, false, this.now());
        this.log(`worker ${session.worker} disconnected (its leases expire unless it reconnects)`);
      }
      session = undefined;
    };
    call.on('data', (msg: SessionRequest) => {
      try {
        if (msg.kind.case === 'hello') {
          if (session) return end(grpc.status.FAILED_PRECONDITION, 'hello sent twice');
          const id = msg.kind.value.workerId;
          if (!this.workers.get(id)) return end(grpc.status.NOT_FOUND, `unknown worker id ${JSON.stringify(id.slice(0, 64))}: register again`);
          const old = this.sessions.get(id);
          if (old) {
            this.log(`worker ${id} opened a new session: closing the old one`);
            old.call.end();
          }
          session = { worker: id, call, free: 0, received: 0, sent: 0, draining: false };
          this.sessions.set(id, session);
          this.workers.setConnected(id, true, this.now());
          this.log(`worker ${id} connected`);
          return;
        }
        if (!session) return end(grpc.status.FAILED_PRECONDITION, `${msg.kind.case ?? 'empty message'} before hello`);
        this.onMessage(session, msg);
      } catch (e) {
        // a bug or a database failure: end this session only; the worker reconnects
        const trace = process.env.AIMC_DEBUG === '1' && e instanceof Error ? e.stack : undefined; // --debug
        this.log(`session ${session?.worker ?? '?'}: ${trace ?? (e instanceof Error ? e.message : String(e))}`);
        end(grpc.status.INTERNAL, 'coordinator error');
      }
    });
    call.on('end', () => {
      detach();
      if (!call.writableEnded) call.end();
    });
    call.on('error', () => detach());
    call.on('close', () => detach());
  }

  private reply(s: Session, lease: LeaseRef, v: Verdict, what: string): void {
    if (!v.accepted) this.log(`worker ${s.worker}: ${what} for ${lease.hash.slice(0, 12)}#${lease.attempt} rejected: ${v.reason}`);
    s.call.write({ kind: { case: 'ack', value: { lease: leaseToWire(lease), accepted: v.accepted, reason: v.accepted ? '' : v.reason } } });
  }

  private onMessage(s: Session, msg: SessionRequest): void {
    const worker = s.worker;
    const now = this.now();
    switch (msg.kind.case) {
      case 'slots': {
        const { free, leasesReceived } = msg.kind.value;
        if (free > MAX_SLOTS || leasesReceived > s.sent) {
          this.log(`worker ${worker}: implausible slots update (free ${free}, received ${leasesReceived} of ${s.sent} sent): ignored`);
          return;
        }
        s.free = free;
        s.received = leasesReceived;
        this.workers.touch(worker, now, free);
        this.dispatch();
        return;
      }
      case 'heartbeat': {
        const held = msg.kind.value.held.map(leaseFromWire).filter((l): l is LeaseRef => l !== undefined);
        this.workers.touch(worker, now);
        for (const lost of this.scheduler.heartbeat(worker, held)) {
          s.call.write({ kind: { case: 'cancel', value: { lease: leaseToWire(lost) } } });
        }
        return;
      }
      case 'progress': {
        const lease = leaseFromWire(msg.kind.value.lease);
        const metrics = msg.kind.value.metrics;
        if (!lease || !metrics) return this.log(`worker ${worker}: malformed progress ignored`);
        this.scheduler.progress(worker, lease, epochFromWire(metrics));
        return;
      }
      case 'result': {
        const lease = leaseFromWire(msg.kind.value.lease);
        const result = msg.kind.value.result;
        if (!lease || !result) return this.log(`worker ${worker}: malformed result ignored`);
        const v = this.scheduler.complete(worker, lease, resultFromWire(result), this.workers.get(worker)?.provenance_id ?? null);
        this.reply(s, lease, v, 'result');
        this.dispatch();
        return;
      }
      case 'failure': {
        const lease = leaseFromWire(msg.kind.value.lease);
        if (!lease) return this.log(`worker ${worker}: malformed failure ignored`);
        this.reply(s, lease, this.scheduler.fail(worker, lease, msg.kind.value.error || 'failed (no message)'), 'failure');
        this.dispatch();
        return;
      }
      case 'released': {
        const lease = leaseFromWire(msg.kind.value.lease);
        if (!lease) return this.log(`worker ${worker}: malformed release ignored`);
        this.reply(s, lease, this.scheduler.release(worker, lease), 'release');
        this.dispatch();
        return;
      }
      case 'draining':
        s.draining = true;
        this.log(`worker ${worker} is draining`);
        return;
      default:
        this.log(`worker ${worker}: empty session message ignored`);
    }
  }

  /** Leases queued runs to every session with free slots. */
  private dispatch(): void {
    for (const s of this.sessions.values()) {
      if (s.draining) continue;
      const available = s.free - (s.sent - s.received);
      if (available <= 0) continue;
      for (const l of this.scheduler.lease(s.worker, available)) {
        s.sent++;
        s.call.write({ kind: { case: 'lease', value: { lease: leaseToWire(l), configJson: l.configJson, leaseTtlMs: this.scheduler.leaseTtlMs } } });
      }
    }
  }

  private expire(): void {
    try {
      const { requeued, failed } = this.scheduler.expireLeases();
      if (requeued + failed > 0) {
        this.log(`leases expired: ${requeued} runs re-queued, ${failed} failed after ${this.scheduler.maxLostLeases} lost leases`);
        this.dispatch();
      }
    } catch (e) {
      this.log(`lease expiry: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  // ---- SweepService ----------------------------------------------------------------------

  private async submit(fileName: string, yaml: string): Promise<{ sweepName: string; totalRuns: number; newRuns: number; doneRuns: number }> {
    if (fileName.length > MAX_TEXT) throw new RpcError(grpc.status.INVALID_ARGUMENT, `file_name: longer than ${MAX_TEXT} characters`);
    const file = fileName || 'submitted sweep';
    // bounded before anything is parsed
    const bytes = Buffer.byteLength(yaml, 'utf8');
    if (bytes > MAX_SWEEP_BYTES) {
      const n = (x: number): string => x.toLocaleString('en-US');
      throw new RpcError(grpc.status.INVALID_ARGUMENT, `${file}: ${n(bytes)} bytes, more than the ${n(MAX_SWEEP_BYTES)} bytes (1 MiB) a sweep may have (a real sweep file is a few KB)`);
    }
    let spec;
    let expansion;
    try {
      ({ spec, expansion } = await this.expander.expand(yaml, file));
    } catch (e) {
      if (e instanceof SweepError || e instanceof ConfigError) throw new RpcError(grpc.status.INVALID_ARGUMENT, e.message);
      if (e instanceof ExpanderError) {
        const code = e.reason === 'busy' || e.reason === 'timeout' ? grpc.status.RESOURCE_EXHAUSTED : e.reason === 'closed' ? grpc.status.UNAVAILABLE : grpc.status.INTERNAL;
        throw new RpcError(code, `${file}: ${e.message}`);
      }
      throw e;
    }
    const rec = this.scheduler.submit(spec, expansion);
    const counts = this.scheduler.counts(rec.sweepId);
    this.log(`sweep ${spec.name} submitted: ${rec.total} runs, ${rec.newRuns} new, ${counts.done} done`);
    this.dispatch();
    return { sweepName: spec.name, totalRuns: rec.total, newRuns: rec.newRuns, doneRuns: counts.done };
  }

  private status(): {
    sweeps: ReturnType<typeof statusOf>[];
    workers: { workerId: string; name: string; host: string; slots: number; freeSlots: number; running: number; lastHeartbeatUnixMs: bigint; connected: boolean }[];
  } {
    const report = statusReport(this.o.db, this.now());
    const running = this.workers.runningByWorker();
    return {
      sweeps: report.sweeps.map(statusOf),
      workers: report.workers.map((w) => ({
        workerId: w.id,
        name: w.name,
        host: w.host,
        slots: w.slots,
        freeSlots: w.free_slots,
        running: running.get(w.id) ?? 0,
        lastHeartbeatUnixMs: BigInt(w.last_heartbeat_at),
        connected: this.sessions.has(w.id),
      })),
    };
  }

  /** Streams a sweep's status after every finished run (and every 2 s) until none is left to run. */
  private watch(call: WatchCall): void {
    const name = call.request.sweepName;
    const sweep = findSweep(this.o.db, name);
    if (!sweep) throw new RpcError(grpc.status.NOT_FOUND, `no sweep named ${JSON.stringify(name.slice(0, 200))}`);
    const members = new Set(sweepRunHashes(this.o.db, sweep.id));
    const snapshot = (): ReturnType<typeof statusOf> => {
      const s = statusReport(this.o.db, this.now()).sweeps.find((x) => x.name === name);
      if (!s) throw new RpcError(grpc.status.NOT_FOUND, `sweep ${name} disappeared`);
      return statusOf(s);
    };
    let stopped = false;
    const stop = (): void => {
      if (stopped) return;
      stopped = true;
      this.scheduler.events.off('event', onEvent);
      clearInterval(timer);
      this.watchers.delete(stop);
      if (!call.writableEnded) call.end();
    };
    const send = (run?: { runHash: string; status: RunStatusWire; error: string; attempt: number }): void => {
      const sweepStatus = snapshot();
      call.write({ sweep: sweepStatus, run });
      if (sweepStatus.counts.queued + sweepStatus.counts.running === 0) stop();
    };
    const onEvent = (e: SchedulerEvent): void => {
      if (stopped || e.kind !== 'finished' || !members.has(e.lease.hash)) return;
      send({ runHash: e.lease.hash, status: e.status === 'done' ? RunStatus.DONE : RunStatus.FAILED, error: e.error ?? '', attempt: e.lease.attempt });
    };
    const timer = setInterval(() => (stopped ? undefined : send()), 2000);
    timer.unref();
    this.watchers.add(stop);
    this.scheduler.events.on('event', onEvent);
    call.on('cancelled', stop);
    call.on('close', stop);
    send();
  }
}
