/**
 * The gRPC coordinator: WorkerService (registration, one session stream per worker) and
 * SweepService (submit, status, watch) on top of the Scheduler, the database's single writer:
 * everything the coordinator writes or reads goes through the scheduler, and what crosses the
 * wire through src/rpc/convert.ts.
 *
 * Nothing a peer sends is trusted: lease references are checked against the current attempt
 * and its holder, results are validated by the store, configs only ever come from the
 * database, and protocol violations end the offending stream with a status, never the server.
 * A request the peer can fix is answered INVALID_ARGUMENT (its InputError: src/rpc/status.ts);
 * a failure of the coordinator's own database is INTERNAL, whatever it means to the operator.
 */
import { randomBytes } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { NUMERICS_VERSION } from '../core/version.ts';
import {
  addService,
  bindServer,
  errorToStatus,
  type RequestOf,
  type ResponseInitOf,
  RpcError,
  type ServerBidiCall,
} from '../rpc/bridge.ts';
import {
  epochFromWire,
  leaseFromWire,
  leaseToWire,
  provenanceFromWire,
  resultFromWire,
  runEventToWire,
  statusToWire,
  sweepStatusToWire,
} from '../rpc/convert.ts';
import { SweepService, WorkerService } from '../rpc/services.ts';
import type { Db } from '../store/open.ts';
import type { LeaseRef, Verdict } from '../store/queue.ts';
import { DEFAULT_MAX_RUNS } from '../sweep/expand.ts';
import { ExpanderError, SweepExpander } from '../sweep/expand-thread.ts';
import { MAX_SWEEP_BYTES } from '../sweep/spec.ts';
import type { Scheduler, SchedulerEvent } from './scheduler.ts';

export interface CoordinatorOptions {
  scheduler: Scheduler;
  /** @deprecated ignored: the coordinator reads and writes through `scheduler` */
  db?: Db;
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
  /** the clock of status snapshots (default: the scheduler's, which stamps every write) */
  now?: () => number;
}

type RegisterRequest = RequestOf<typeof WorkerService.method.register>;
type SessionMethod = typeof WorkerService.method.session;
type SessionRequest = RequestOf<SessionMethod>;
type SessionCall = ServerBidiCall<SessionRequest, ResponseInitOf<SessionMethod>>;
type WatchMethod = typeof SweepService.method.watch;
type WatchCall = grpc.ServerWritableStream<RequestOf<WatchMethod>, ResponseInitOf<WatchMethod>>;

/** One connected worker session. */
interface Session {
  worker: string;
  call: SessionCall;
  /**
   * the leases the worker last said it would take more of (SlotsUpdate.free), and how many grants it had received then
   */
  freeLeases: number;
  received: number;
  /** grants written on this session */
  sent: number;
  draining: boolean;
}

const MAX_SLOTS = 4096;
const MAX_TEXT = 256;
export const DEFAULT_MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

/** The status an expander that did not expand a sweep answers with (its reason: busy, too slow, shutting down). */
const EXPANDER_STATUS: Record<ExpanderError['reason'], grpc.status> = {
  busy: grpc.status.RESOURCE_EXHAUSTED,
  timeout: grpc.status.RESOURCE_EXHAUSTED,
  closed: grpc.status.UNAVAILABLE,
  failed: grpc.status.INTERNAL,
};

/**
 * A failure of the coordinator's own database, as a peer is answered: INTERNAL with its message
 * (a StoreError is bad input to the operator, who can fix it, not to the peer).
 */
function ownFailure(e: unknown): RpcError {
  return e instanceof RpcError ? e : new RpcError(grpc.status.INTERNAL, e instanceof Error ? e.message : String(e));
}

/** Runs `use`, a use of the coordinator's own database; its failures are `ownFailure`s. */
function own<T>(use: () => T): T {
  try {
    return use();
  } catch (e) {
    throw ownFailure(e);
  }
}

export class Coordinator {
  private readonly scheduler: Scheduler;
  private readonly now: () => number;
  private readonly log: (line: string) => void;
  private readonly heartbeatIntervalMs: number;
  private readonly sessions = new Map<string, Session>();
  private readonly server: grpc.Server;
  private readonly expiryTimer: NodeJS.Timeout;
  private readonly watchers = new Set<() => void>();
  private readonly expander: SweepExpander;

  constructor(o: CoordinatorOptions) {
    this.scheduler = o.scheduler;
    this.scheduler.disconnectAllWorkers();
    this.now = o.now ?? this.scheduler.now;
    this.log = o.log ?? (() => {});
    this.heartbeatIntervalMs = o.heartbeatIntervalMs ?? Math.max(100, Math.floor(this.scheduler.leaseTtlMs / 3));
    // parsing and expanding a submitted sweep runs on a thread: the event loop never waits on it
    this.expander = new SweepExpander({ maxRuns: o.maxRuns ?? DEFAULT_MAX_RUNS, timeoutMs: o.expandTimeoutMs });
    const max = o.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    this.server = new grpc.Server({ 'grpc.max_receive_message_length': max, 'grpc.max_send_message_length': max });
    const onError = (e: unknown, method: string): void =>
      this.log(`${method}: ${e instanceof Error ? e.message : String(e)}`);
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
    this.expiryTimer = setInterval(
      () => this.expireLeases(),
      Math.max(50, Math.min(1000, this.scheduler.leaseTtlMs / 4)),
    );
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
    for (const s of this.sessions.values()) this.scheduler.workerConnected(s.worker, false);
    this.sessions.clear();
  }

  // ---- WorkerService ---------------------------------------------------------------------

  private register(req: RegisterRequest): { workerId: string; leaseTtlMs: number; heartbeatIntervalMs: number } {
    if (req.numericsVersion !== NUMERICS_VERSION) {
      throw new RpcError(
        grpc.status.FAILED_PRECONDITION,
        `worker computes numerics version ${req.numericsVersion}, this coordinator's runs need ` +
          `${NUMERICS_VERSION}: install the same aimc-sweep version`,
      );
    }
    if (req.slots < 1 || req.slots > MAX_SLOTS)
      throw new RpcError(grpc.status.INVALID_ARGUMENT, `slots: expected 1..${MAX_SLOTS}, got ${req.slots}`);
    for (const [field, value] of [
      ['name', req.name],
      ['host', req.host],
      ['package_version', req.packageVersion],
      ['node_version', req.nodeVersion],
    ] as const) {
      if (value.length > MAX_TEXT)
        throw new RpcError(grpc.status.INVALID_ARGUMENT, `${field}: longer than ${MAX_TEXT} characters`);
    }
    const id = `w-${randomBytes(6).toString('hex')}`;
    const name = req.name || id;
    own(() =>
      this.scheduler.registerWorker({
        id,
        name,
        host: req.host || '?',
        slots: req.slots,
        provenance: provenanceFromWire(req),
      }),
    );
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
        this.scheduler.workerConnected(session.worker, false);
        this.log(`worker ${session.worker} disconnected (its leases expire unless it reconnects)`);
      }
      session = undefined;
    };
    call.on('data', (msg: SessionRequest) => {
      try {
        if (msg.kind.case === 'hello') {
          if (session) return end(grpc.status.FAILED_PRECONDITION, 'hello sent twice');
          const id = msg.kind.value.workerId;
          if (!this.scheduler.worker(id))
            return end(grpc.status.NOT_FOUND, `unknown worker id ${JSON.stringify(id.slice(0, 64))}: register again`);
          const old = this.sessions.get(id);
          if (old) {
            this.log(`worker ${id} opened a new session: closing the old one`);
            old.call.end();
          }
          session = { worker: id, call, freeLeases: 0, received: 0, sent: 0, draining: false };
          this.sessions.set(id, session);
          this.scheduler.workerConnected(id, true);
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
    if (!v.accepted)
      this.log(`worker ${s.worker}: ${what} for ${lease.hash.slice(0, 12)}#${lease.attempt} rejected: ${v.reason}`);
    s.call.write({
      kind: {
        case: 'ack',
        value: { lease: leaseToWire(lease), accepted: v.accepted, reason: v.accepted ? '' : v.reason },
      },
    });
  }

  private onMessage(s: Session, msg: SessionRequest): void {
    const worker = s.worker;
    switch (msg.kind.case) {
      case 'slots': {
        const { free, leasesReceived } = msg.kind.value;
        if (free > MAX_SLOTS || leasesReceived > s.sent) {
          this.log(
            `worker ${worker}: implausible slots update (free ${free}, received ${leasesReceived} of ${s.sent} ` +
              `sent): ignored`,
          );
          return;
        }
        s.freeLeases = free;
        s.received = leasesReceived;
        this.scheduler.workerSeen(worker, free);
        this.dispatch();
        return;
      }
      case 'heartbeat': {
        const held = msg.kind.value.held.map(leaseFromWire).filter((l): l is LeaseRef => l !== undefined);
        this.scheduler.workerSeen(worker);
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
        const v = this.scheduler.complete(
          worker,
          lease,
          resultFromWire(result),
          this.scheduler.worker(worker)?.provenance_id ?? null,
        );
        this.reply(s, lease, v, 'result');
        this.dispatch();
        return;
      }
      case 'failure': {
        const lease = leaseFromWire(msg.kind.value.lease);
        if (!lease) return this.log(`worker ${worker}: malformed failure ignored`);
        this.reply(
          s,
          lease,
          this.scheduler.fail(worker, lease, msg.kind.value.error || 'failed (no message)'),
          'failure',
        );
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

  /** Leases queued runs to every session that takes more leases. */
  private dispatch(): void {
    for (const s of this.sessions.values()) {
      if (s.draining) continue;
      // the leases sent since the worker counted are in flight and already take its free ones
      const available = s.freeLeases - (s.sent - s.received);
      if (available <= 0) continue;
      for (const l of this.scheduler.lease(s.worker, available)) {
        s.sent++;
        s.call.write({
          kind: {
            case: 'lease',
            value: { lease: leaseToWire(l), configJson: l.configJson, leaseTtlMs: this.scheduler.leaseTtlMs },
          },
        });
      }
    }
  }

  /**
   * Re-queues (or fails) the runs whose leases expired by the scheduler's clock and leases them
   * again; every tick of the expiry timer (a quarter of the lease TTL, at most 1 s) calls it.
   */
  expireLeases(): void {
    try {
      const { requeued, failed } = this.scheduler.expireLeases();
      if (requeued + failed > 0) {
        this.log(
          `leases expired: ${requeued} runs re-queued, ${failed} failed after ${this.scheduler.maxLostLeases} ` +
            `lost leases`,
        );
        this.dispatch();
      }
    } catch (e) {
      this.log(`lease expiry: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  // ---- SweepService ----------------------------------------------------------------------

  private async submit(
    fileName: string,
    yaml: string,
  ): Promise<{ sweepName: string; totalRuns: number; newRuns: number; doneRuns: number }> {
    if (fileName.length > MAX_TEXT)
      throw new RpcError(grpc.status.INVALID_ARGUMENT, `file_name: longer than ${MAX_TEXT} characters`);
    const file = fileName || 'submitted sweep';
    // bounded before anything is parsed
    const bytes = Buffer.byteLength(yaml, 'utf8');
    if (bytes > MAX_SWEEP_BYTES) {
      const n = (x: number): string => x.toLocaleString('en-US');
      throw new RpcError(
        grpc.status.INVALID_ARGUMENT,
        `${file}: ${n(bytes)} bytes, more than the ${n(MAX_SWEEP_BYTES)} bytes (1 MiB) a sweep may have (a ` +
          `real sweep file is a few KB)`,
      );
    }
    let spec;
    let expansion;
    try {
      ({ spec, expansion } = await this.expander.expand(yaml, file));
    } catch (e) {
      // the sweep's own errors (SweepError, ConfigError: InputErrors) are the peer's: INVALID_ARGUMENT
      if (e instanceof ExpanderError) throw new RpcError(EXPANDER_STATUS[e.reason], `${file}: ${e.message}`);
      throw e;
    }
    // recorded in slices: sessions, reports and status calls are answered meanwhile
    const rec = await this.scheduler.submitInSlices(spec, expansion).catch((e: unknown) => {
      throw ownFailure(e);
    });
    const counts = own(() => this.scheduler.counts(rec.sweepId));
    this.log(`sweep ${spec.name} submitted: ${rec.total} runs, ${rec.newRuns} new, ${counts.done} done`);
    this.dispatch();
    return { sweepName: spec.name, totalRuns: rec.total, newRuns: rec.newRuns, doneRuns: counts.done };
  }

  private status(): ReturnType<typeof statusToWire> {
    return statusToWire(this.scheduler.status(this.now()), this.scheduler.runningByWorker(), (id) =>
      this.sessions.has(id),
    );
  }

  /** Streams a sweep's status after every finished run (and every 2 s) until none is left to run. */
  private watch(call: WatchCall): void {
    const name = call.request.sweepName;
    const hashes = this.scheduler.sweepRunHashes(name);
    if (!hashes) throw new RpcError(grpc.status.NOT_FOUND, `no sweep named ${JSON.stringify(name.slice(0, 200))}`);
    const members = new Set(hashes);
    const snapshot = (): ReturnType<typeof sweepStatusToWire> => {
      const s = this.scheduler.status(this.now()).sweeps.find((x) => x.name === name);
      if (!s) throw new RpcError(grpc.status.NOT_FOUND, `sweep ${name} disappeared`);
      return sweepStatusToWire(s);
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
    const send = (run?: ReturnType<typeof runEventToWire>): void => {
      const sweepStatus = snapshot();
      call.write({ sweep: sweepStatus, run });
      if (sweepStatus.counts.queued + sweepStatus.counts.running === 0) stop();
    };
    const onEvent = (e: SchedulerEvent): void => {
      if (stopped || e.kind !== 'finished' || !members.has(e.lease.hash)) return;
      send(runEventToWire(e.lease, e.status, e.error));
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
