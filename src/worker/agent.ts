/**
 * A worker node: registers with the coordinator, keeps one session stream open, runs the leases
 * it is granted on its thread pool, heartbeats what it holds, and reports progress and results.
 *
 * It keeps no state that matters. If the stream breaks it reconnects with exponential backoff
 * and jitter; runs in flight go on, and their results wait in an outbox until the coordinator
 * acknowledges them. A drain (SIGTERM) takes no new leases, hands back the ones not started,
 * finishes the rest and resolves `run()`.
 */
import { hostname } from 'node:os';
import * as grpc from '@grpc/grpc-js';
import {
  type BidiStream,
  type Client,
  createClient,
  isServiceError,
  type RequestInitOf,
  type ResponseOf,
} from '../rpc/bridge.ts';
import { epochToWire, leaseFromWire, leaseToWire, registrationToWire, resultToWire } from '../rpc/convert.ts';
import { WorkerService } from '../rpc/services.ts';
import { localProvenance } from '../store/provenance.ts';
import type { LeaseRef } from '../store/queue.ts';
import { LEASES_PER_THREAD, type SimulationPool } from './pool.ts';

type SessionMethod = typeof WorkerService.method.session;
type Outgoing = RequestInitOf<SessionMethod>;
type SessionResponse = ResponseOf<SessionMethod>;

export interface AgentOptions {
  /** host:port of the coordinator */
  coordinator: string;
  pool: SimulationPool;
  credentials: grpc.ChannelCredentials;
  token?: string;
  name?: string;
  /** leases held per thread (one running, the rest queued in the pool) */
  leasesPerThread?: number;
  /** reconnect backoff: first delay and cap (ms) */
  backoffMs?: { initial: number; max: number };
  channelOptions?: grpc.ClientOptions;
  log?: (line: string) => void;
}

interface HeldRun {
  lease: LeaseRef;
  abort: AbortController;
  /** the run reported its first epoch: it is computing, not waiting in the pool */
  started: boolean;
  /** cancelled by the coordinator: drop silently */
  cancelled: boolean;
}

/** Errors after which retrying cannot help (wrong token, wrong version). */
const FATAL = new Set<number>([
  grpc.status.UNAUTHENTICATED,
  grpc.status.PERMISSION_DENIED,
  grpc.status.FAILED_PRECONDITION,
  grpc.status.INVALID_ARGUMENT,
]);

const keyOf = (l: LeaseRef): string => `${l.hash}#${l.attempt}`;

export class WorkerAgent {
  private readonly o: AgentOptions;
  private readonly client: Client<typeof WorkerService>;
  /** leases held at most: pool threads x leases per thread */
  private readonly capacity: number;
  private readonly log: (line: string) => void;
  private workerId: string | undefined;
  private heartbeatMs = 1000;
  private stream: BidiStream<Outgoing, SessionResponse> | undefined;
  private received = 0;
  private readonly runs = new Map<string, HeldRun>();
  /** results, failures and releases not yet acknowledged, by lease */
  private readonly outbox = new Map<string, Outgoing>();
  private draining = false;
  private stopped = false;
  private wake: (() => void) | undefined;

  constructor(o: AgentOptions) {
    this.o = o;
    this.capacity = o.pool.threads * (o.leasesPerThread ?? LEASES_PER_THREAD);
    this.log = o.log ?? (() => {});
    this.client = createClient(WorkerService, o.coordinator, o.credentials, {
      token: o.token,
      channelOptions: o.channelOptions,
    });
  }

  /** Serves until drained; rejects on an error retrying cannot fix (auth, version). */
  async run(): Promise<void> {
    const { initial, max } = this.o.backoffMs ?? { initial: 250, max: 10_000 };
    let delay = initial;
    try {
      while (!this.finished()) {
        const t0 = Date.now();
        try {
          if (!this.workerId) await this.register();
          await this.session();
        } catch (e) {
          const code = isServiceError(e) ? e.code : undefined;
          if (code !== undefined && FATAL.has(code)) throw e;
          if (code === grpc.status.NOT_FOUND) this.workerId = undefined; // the coordinator forgot us: register again
          this.log(`coordinator ${this.o.coordinator}: ${e instanceof Error ? e.message : String(e)}`);
        }
        if (this.finished()) break;
        if (Date.now() - t0 > 10_000) delay = initial; // the session lived: start backing off afresh
        const wait = delay * (0.5 + Math.random() / 2);
        this.log(`reconnecting in ${(wait / 1000).toFixed(1)} s`);
        await new Promise<void>((resolve) => {
          this.wake = resolve;
          setTimeout(resolve, wait);
        });
        delay = Math.min(max, delay * 2);
      }
    } finally {
      this.stopped = true;
      this.stream?.end();
      this.client.$close();
    }
  }

  /** Drains: no new leases, runs not started are handed back, the others finish. */
  drain(): void {
    if (this.draining) return;
    this.draining = true;
    this.log(`draining: ${this.runs.size} leases held`);
    this.send({ kind: { case: 'draining', value: {} } });
    this.sendSlots();
    for (const run of this.runs.values()) if (!run.started) run.abort.abort();
    this.checkDrained();
  }

  private finished(): boolean {
    return this.stopped || (this.draining && this.runs.size === 0 && this.outbox.size === 0);
  }

  private checkDrained(): void {
    if (!this.finished()) return;
    this.stream?.end();
    this.wake?.();
  }

  private async register(): Promise<void> {
    const r = await this.client.register(
      registrationToWire(
        // slots: the runs it computes at once (its threads); it asks for up to `capacity`
        // leases through the free counts of its slots updates (one queued per thread)
        { name: this.o.name ?? `${hostname()}:${process.pid}`, host: hostname(), slots: this.o.pool.threads },
        localProvenance(),
      ),
      { deadline: Date.now() + 10_000 },
    );
    this.workerId = r.workerId;
    this.heartbeatMs = Math.max(50, r.heartbeatIntervalMs);
    const threads = this.o.pool.threads;
    this.log(
      `registered as ${r.workerId} (${threads} slot${threads === 1 ? '' : 's'}: ${threads} ` +
        `run${threads === 1 ? '' : 's'} at once on ${threads} thread${threads === 1 ? '' : 's'}, ` +
        `up to ${this.capacity} leases held to keep them busy; heartbeat every ${this.heartbeatMs} ms)`,
    );
  }

  private send(msg: Outgoing): void {
    const s = this.stream;
    if (s && !s.writableEnded && !s.destroyed) s.write(msg);
  }

  private sendSlots(): void {
    const free = this.draining ? 0 : Math.max(0, this.capacity - this.runs.size);
    this.send({ kind: { case: 'slots', value: { free, leasesReceived: this.received } } });
  }

  private sendHeartbeat(): void {
    this.send({
      kind: { case: 'heartbeat', value: { held: [...this.runs.values()].map((r) => leaseToWire(r.lease)) } },
    });
  }

  /** One session: resolves when the coordinator ends it, rejects with its error status. */
  private session(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const stream = this.client.session();
      this.stream = stream;
      this.received = 0;
      const heartbeat = setInterval(() => this.sendHeartbeat(), this.heartbeatMs);
      let settled = false;
      const settle = (e?: Error): void => {
        if (settled) return;
        settled = true;
        clearInterval(heartbeat);
        if (this.stream === stream) this.stream = undefined;
        if (e) reject(e);
        else resolve();
      };
      stream.on('data', (msg: SessionResponse) => this.onMessage(msg));
      stream.on('error', (e) => settle(e));
      stream.on('end', () => settle());
      stream.on('close', () => settle());

      this.send({ kind: { case: 'hello', value: { workerId: this.workerId } } });
      if (this.draining) this.send({ kind: { case: 'draining', value: {} } });
      this.sendHeartbeat();
      for (const msg of this.outbox.values()) this.send(msg);
      this.sendSlots();
      this.log(`session open (${this.runs.size} runs held, ${this.outbox.size} reports to deliver)`);
      if (this.finished()) stream.end();
    });
  }

  private onMessage(msg: SessionResponse): void {
    switch (msg.kind.case) {
      case 'lease': {
        this.received++;
        const lease = leaseFromWire(msg.kind.value.lease);
        if (!lease) return this.log('malformed lease ignored');
        if (this.draining || this.runs.has(lease.hash)) {
          this.report(lease, { kind: { case: 'released', value: { lease: leaseToWire(lease) } } });
          return;
        }
        this.start(lease, msg.kind.value.configJson);
        this.sendSlots();
        return;
      }
      case 'cancel': {
        const lease = leaseFromWire(msg.kind.value.lease);
        const run = lease && this.runs.get(lease.hash);
        if (run && run.lease.attempt === lease.attempt) {
          this.log(`lease ${lease.hash.slice(0, 12)}#${lease.attempt} cancelled by the coordinator`);
          run.cancelled = true;
          run.abort.abort();
        }
        return;
      }
      case 'ack': {
        const lease = leaseFromWire(msg.kind.value.lease);
        if (!lease) return;
        if (!msg.kind.value.accepted)
          this.log(`report for ${lease.hash.slice(0, 12)}#${lease.attempt} not accepted: ${msg.kind.value.reason}`);
        this.outbox.delete(keyOf(lease));
        this.checkDrained();
        return;
      }
      case 'drain':
        this.drain();
        return;
    }
  }

  /** Queues a report until acknowledged, sending it now when connected. */
  private report(lease: LeaseRef, msg: Outgoing): void {
    this.outbox.set(keyOf(lease), msg);
    this.send(msg);
  }

  private start(lease: LeaseRef, configJson: string): void {
    const run: HeldRun = { lease, abort: new AbortController(), started: false, cancelled: false };
    this.runs.set(lease.hash, run);
    const ref = leaseToWire(lease);
    const onEpoch = (m: Parameters<typeof epochToWire>[0]): void => {
      run.started = true;
      this.send({ kind: { case: 'progress', value: { lease: ref, metrics: epochToWire(m) } } });
    };
    this.o.pool
      .run(lease.hash, configJson, onEpoch, run.abort.signal)
      .then(
        (result) =>
          this.report(lease, { kind: { case: 'result', value: { lease: ref, result: resultToWire(result) } } }),
        (e: unknown) => {
          if (run.cancelled) return;
          if (run.abort.signal.aborted) this.report(lease, { kind: { case: 'released', value: { lease: ref } } });
          else
            this.report(lease, {
              kind: { case: 'failure', value: { lease: ref, error: e instanceof Error ? e.message : String(e) } },
            });
        },
      )
      .finally(() => {
        this.runs.delete(lease.hash);
        this.sendSlots();
        this.checkDrained();
      });
  }
}
