/**
 * The scheduler: one queue of runs, leased to workers, with heartbeats, expiry and bounded
 * retries. Embedded mode (`run`) and the gRPC coordinator (`serve`) both drive this class;
 * workers (in-process or remote) only ever see leases and report on them.
 *
 * It is the database's one door for writes: sweeps, leases and reports (the RunQueue), the
 * registered workers (the WorkerRegistry) and provenance records are written through its
 * methods only; the coordinator and the commands never write to the store themselves (`run`
 * keeps its connection to read the table at the end). Construction takes the writer lock
 * (refusing a database whose owner is alive), refreshes it as a heartbeat and deals with runs a
 * dead predecessor left leased. Every write checks the lock's fencing token (src/store/writer.ts):
 * a scheduler whose lock was taken over while it was suspended writes nothing more, and `failed`
 * aborts with the error that stopped it (that, a full disk, an I/O error), so that its owner
 * stops too.
 *
 * The store is an interface (scheduler-store.ts: SQLite, or the tests' in-memory one), and so
 * are the clock (`now`) and what it asks of the OS (`host`: src/store/host.ts).
 */
import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import type { EpochMetrics } from '../core/tasks/run-result.ts';
import { NUMERICS_VERSION } from '../core/version.ts';
import type { StatusReport } from '../report/status.ts';
import { canonicalJson } from '../sweep/canonical.ts';
import type { ExpandedRun, Expansion } from '../sweep/expand.ts';
import { referencesForStorage } from '../sweep/reference.ts';
import type { SweepSpec } from '../sweep/spec.ts';
import { viewForStorage } from '../sweep/view.ts';
import {
  type HostProbe,
  localHost,
  type LockOwner,
  type OwnerLiveness,
  ownerLiveness,
  processIdentity,
} from '../store/host.ts';
import type { Db } from '../store/open.ts';
import { localProvenance, type Provenance } from '../store/provenance.ts';
import {
  type Counts,
  type Lease,
  type LeaseRef,
  type ReportedResult,
  type RunQueue,
  type SweepHeader,
  type SweepInput,
  type SweepRecorded,
  type SweepRunInput,
  sweepRecorded,
  type Verdict,
  type WorkerRecord,
  type WorkerRegistry,
} from '../store/queue.ts';
import { type Acquired, DEFAULT_LOCK_STALE_MS } from '../store/writer.ts';
import { isSchedulerStore, type SchedulerStore, sqliteSchedulerStore } from './scheduler-store.ts';

export interface SchedulerOptions {
  /** the database file (for messages) */
  file: string;
  /** a lease lives this long without a heartbeat (ms) */
  leaseTtlMs?: number;
  /** a run whose leases were lost this many times is failed, not re-queued */
  maxLostLeases?: number;
  /** the writer lock of an owner on another host counts as abandoned after this long without a refresh (ms) */
  lockStaleMs?: number;
  /**
   * Runs a dead predecessor left leased: 'requeue' at once (embedded mode: its in-process
   * worker died with it) or 'expire' with their leases (a served coordinator: remote workers
   * may still be computing them and report back after reconnecting).
   */
  orphans?: 'requeue' | 'expire';
  /** the clock every lease, heartbeat and record is stamped with (ms since the Unix epoch) */
  now?: () => number;
  /** what the scheduler asks of the OS: this machine and its processes (default: the real ones) */
  host?: HostProbe;
  /** whether a lock owner lives (default: its pid on `host`, its heartbeat elsewhere) */
  ownerAlive?: OwnerLiveness;
  /** this process as a lock owner (default: host:pid and the process's start time, from `host`) */
  identity?: LockOwner;
  /** where this process's results come from (default: localProvenance()) */
  provenance?: Provenance;
  /** submitInSlices: each transaction records runs for about this long before yielding (ms; default 20) */
  recordSliceMs?: number;
}

/** What the scheduler tells its listeners (progress display, watch streams). */
export type SchedulerEvent =
  | { kind: 'leased'; worker: string; lease: LeaseRef }
  | { kind: 'progress'; worker: string; lease: LeaseRef; metrics: EpochMetrics }
  | {
      kind: 'finished';
      worker: string;
      lease: LeaseRef;
      status: 'done' | 'failed';
      error?: string;
      final?: EpochMetrics;
    }
  | { kind: 'requeued'; count: number; failed: number; why: string }
  | { kind: 'rejected'; worker: string; lease: LeaseRef; what: string; reason: string };

/** A worker as the coordinator registers it. */
export interface WorkerRegistration {
  id: string;
  name: string;
  host: string;
  slots: number;
  /** the versions it announced */
  provenance: Provenance;
}

/**
 * The definition as the database records it (`sweeps.spec_json`, for change detection and for
 * the tables): the part that decides the runs, the papers' numbers and the default view when the
 * sweep gives them (each left out when not given, so that sweeps recorded before the sections
 * existed keep their text).
 */
export function sweepDefinitionJson(spec: SweepSpec): string {
  const reference = spec.reference.length > 0 ? referencesForStorage(spec.reference) : undefined;
  const view = spec.view === null ? undefined : viewForStorage(spec.view);
  return canonicalJson({
    base: spec.base,
    grid: spec.grid,
    cases: spec.cases,
    zip: spec.zip,
    exclude: spec.exclude,
    reference,
    view,
  });
}

/** A run of an expansion as the queue records it: its canonical config as the expansion computed it. */
function runInput(r: ExpandedRun): SweepRunInput {
  return {
    hash: r.hash,
    configJson: r.configJson,
    numericsVersion: NUMERICS_VERSION,
    assignmentsJson: canonicalJson(r.assignments),
  };
}

/** submitInSlices: runs in its first transaction, and the bounds of the later ones (sized to the slice). */
const FIRST_SLICE_RUNS = 256;
const MIN_SLICE_RUNS = 16;
const MAX_SLICE_RUNS = 4_096;

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export class Scheduler {
  readonly events = new EventEmitter<{ event: [SchedulerEvent] }>();
  readonly leaseTtlMs: number;
  readonly maxLostLeases: number;
  /** this scheduler as the writer lock's owner (host:pid) */
  readonly owner: string;
  /** the scheduler's clock */
  readonly now: () => number;
  /** whose writer lock this scheduler took over (its owner was dead, or silent past the stale limit) */
  readonly tookOver: Acquired['tookOver'];
  /**
   * Aborts, with the error as its reason, once this scheduler may no longer write: its lock was
   * taken over (WriterLockLost), the disk failed a write (StoreFailure), the file became unusable.
   */
  readonly failed: AbortSignal;
  private readonly failure = new AbortController();
  private readonly store: SchedulerStore;
  private readonly queue: RunQueue;
  private readonly workers: WorkerRegistry;
  private readonly provenance: number;
  private readonly recordSliceMs: number;
  private readonly lockTimer: NodeJS.Timeout;
  /** the recording in progress (submitInSlices): the next one starts after it */
  private recording: Promise<unknown> = Promise.resolve();
  private closed = false;

  /** `store`: a results database opened for writing (src/store/open.ts), or any SchedulerStore. */
  constructor(store: Db | SchedulerStore, options: SchedulerOptions) {
    this.store = isSchedulerStore(store) ? store : sqliteSchedulerStore(store);
    this.queue = this.store.queue;
    this.workers = this.store.workers;
    this.failed = this.failure.signal;
    this.now = options.now ?? Date.now;
    this.leaseTtlMs = options.leaseTtlMs ?? 30_000;
    this.maxLostLeases = options.maxLostLeases ?? 3;
    this.recordSliceMs = options.recordSliceMs ?? 20;
    const staleMs = options.lockStaleMs ?? DEFAULT_LOCK_STALE_MS;
    const host = options.host ?? localHost;
    const me = options.identity ?? processIdentity(host);
    this.owner = me.owner;
    const ownerAlive = options.ownerAlive ?? ownerLiveness(host);
    const acquired = this.queue.acquireWriterLock(
      me.owner,
      this.now(),
      staleMs,
      options.file,
      ownerAlive,
      me.started,
      (e) => this.stopWriting(e),
      host,
    );
    this.tookOver = acquired.tookOver;
    try {
      const orphans = (options.orphans ?? 'requeue') === 'requeue' ? this.queue.requeueOrphans() : 0;
      if (orphans > 0)
        this.emit({ kind: 'requeued', count: orphans, failed: 0, why: 'left running by a previous coordinator' });
      this.provenance = this.store.provenanceId(options.provenance ?? localProvenance());
    } catch (e) {
      this.queue.releaseWriterLock(this.owner);
      throw e;
    }
    this.lockTimer = setInterval(() => this.refreshLock(), Math.max(1000, staleMs / 3));
    this.lockTimer.unref();
  }

  /** The lock's heartbeat (every third of the stale limit); a failure aborts `failed`, never throws. */
  refreshLock(): void {
    if (this.closed || this.failed.aborted) return;
    try {
      this.queue.refreshWriterLock(this.owner, this.now());
    } catch (e) {
      this.stopWriting(e instanceof Error ? e : new Error(String(e)));
    }
  }

  private stopWriting(e: Error): void {
    clearInterval(this.lockTimer);
    if (!this.failed.aborted) this.failure.abort(e);
  }

  private emit(e: SchedulerEvent): void {
    this.events.emit('event', e);
  }

  // ---- sweeps ---------------------------------------------------------------------------

  private sweepHeader(spec: SweepSpec): SweepHeader {
    return {
      name: spec.name,
      description: spec.description,
      specJson: sweepDefinitionJson(spec),
      source: spec.file,
      provenanceId: this.provenance,
    };
  }

  /**
   * Records a sweep and its runs in one transaction; identical runs already in the database are
   * not added again. It holds the event loop while it writes (seconds for 100,000 runs): for a
   * process that serves others meanwhile, submitInSlices.
   */
  submit(spec: SweepSpec, expansion: Expansion): SweepRecorded {
    return this.queue.recordSweep({ ...this.sweepHeader(spec), runs: expansion.runs.map(runInput) }, this.now());
  }

  /** Records a sweep given as the queue takes it (canonical configs), in one transaction. */
  record(sweep: SweepInput): SweepRecorded {
    return this.queue.recordSweep({ provenanceId: this.provenance, ...sweep }, this.now());
  }

  /**
   * Records a sweep as `submit` does, in slices that yield to the event loop between them, so
   * that a coordinator goes on answering heartbeats, reports and status calls while a large
   * sweep is recorded. Each slice is one transaction of about `recordSliceMs`; runs recorded by
   * one are leasable at once. Recordings run one after the other, in the order they were asked
   * for.
   *
   * The price: a slice's commit writes every index page its runs touched (run hashes are random
   * keys), so 100,000 runs take longer in all than in one transaction (up to twice as long, with
   * the store's `bulk` tuning), which holds the loop instead (seconds). Runs are leasable from
   * the first slice on. And the recording is not one transaction: if the process dies
   * between two slices, the sweep holds part of its runs, and submitting it again adds the rest
   * (what that reports: no changed definition; the runs that joined or left are not counted again).
   */
  submitInSlices(spec: SweepSpec, expansion: Expansion): Promise<SweepRecorded> {
    const record = async (): Promise<SweepRecorded> => {
      const runs = expansion.runs;
      const now = this.now();
      const opened = this.queue.openSweep(this.sweepHeader(spec), now);
      let newRuns = 0;
      let size = FIRST_SLICE_RUNS;
      for (let first = 0; first < runs.length;) {
        await nextTurn();
        const t0 = performance.now();
        const slice = runs.slice(first, first + size).map(runInput);
        newRuns += this.queue.addSweepRuns(opened.sweepId, slice, first, now);
        const took = performance.now() - t0;
        first += slice.length;
        // the next slice sized to take recordSliceMs at this pace (at most twice this one)
        const paced = (slice.length * this.recordSliceMs) / Math.max(took, 0.1);
        size = Math.min(MAX_SLICE_RUNS, Math.max(MIN_SLICE_RUNS, Math.round(Math.min(2 * slice.length, paced))));
      }
      return sweepRecorded(opened, runs, newRuns);
    };
    const bulk = (): Promise<SweepRecorded> => (this.store.bulk ? this.store.bulk(record) : record());
    const recorded = this.recording.then(bulk, bulk);
    this.recording = recorded.catch(() => undefined);
    return recorded;
  }

  /** Failed runs of a sweep back to the queue; returns how many. */
  retryFailed(sweepId: number): number {
    return this.queue.retryFailed(sweepId);
  }

  counts(sweepId?: number): Counts {
    return this.queue.counts(sweepId);
  }

  // ---- leases and reports ---------------------------------------------------------------

  lease(worker: string, max: number, sweepId?: number): Lease[] {
    const leases = this.queue.lease(worker, max, this.now(), this.leaseTtlMs, sweepId);
    for (const l of leases) this.emit({ kind: 'leased', worker, lease: { hash: l.hash, attempt: l.attempt } });
    return leases;
  }

  /** Extends `worker`'s leases; returns those it no longer holds (to cancel). */
  heartbeat(worker: string, held: LeaseRef[]): LeaseRef[] {
    return this.queue.heartbeat(worker, held, this.now(), this.leaseTtlMs);
  }

  private verdict(worker: string, lease: LeaseRef, what: string, v: Verdict): Verdict {
    if (!v.accepted) this.emit({ kind: 'rejected', worker, lease, what, reason: v.reason });
    return v;
  }

  progress(worker: string, lease: LeaseRef, metrics: EpochMetrics): Verdict {
    const v = this.queue.progress(worker, lease, metrics);
    if (v.accepted) this.emit({ kind: 'progress', worker, lease, metrics });
    return this.verdict(worker, lease, 'progress', v);
  }

  /** A worker's result; `provenance` is the worker's (default: this process's; null: unknown). */
  complete(
    worker: string,
    lease: LeaseRef,
    result: ReportedResult,
    provenance: number | null = this.provenance,
  ): Verdict {
    const v = this.queue.complete(worker, lease, result, this.now(), provenance ?? undefined);
    if (v.accepted) {
      const failed = this.queue.runError(lease.hash);
      const final = result.history[result.history.length - 1];
      this.emit({
        kind: 'finished',
        worker,
        lease,
        status: failed === undefined ? 'done' : 'failed',
        error: failed,
        final,
      });
    }
    return this.verdict(worker, lease, 'result', v);
  }

  fail(worker: string, lease: LeaseRef, error: string): Verdict {
    const v = this.queue.fail(worker, lease, error, this.now());
    if (v.accepted) this.emit({ kind: 'finished', worker, lease, status: 'failed', error });
    return this.verdict(worker, lease, 'failure', v);
  }

  /** A lease handed back unfinished; the run goes back to the queue. */
  release(worker: string, lease: LeaseRef): Verdict {
    return this.verdict(worker, lease, 'release', this.queue.release(worker, lease));
  }

  /** Re-queues (or fails, past the bound) the runs whose leases expired. */
  expireLeases(): { requeued: number; failed: number } {
    const r = this.queue.expireLeases(this.now(), this.maxLostLeases);
    if (r.requeued + r.failed > 0)
      this.emit({ kind: 'requeued', count: r.requeued, failed: r.failed, why: 'lease expired' });
    return r;
  }

  // ---- workers (the coordinator's) ------------------------------------------------------

  /** Registers a worker with the versions it announced. */
  registerWorker(w: WorkerRegistration): void {
    const provenanceId = this.store.provenanceId(w.provenance);
    this.workers.register({ id: w.id, name: w.name, host: w.host, slots: w.slots, provenanceId }, this.now());
  }

  worker(id: string): WorkerRecord | undefined {
    return this.workers.get(id);
  }

  /** A worker's session opened or closed. */
  workerConnected(id: string, connected: boolean): void {
    this.workers.setConnected(id, connected, this.now());
  }

  /** A worker was heard from (a heartbeat; a slots update, with the leases it will take more of). */
  workerSeen(id: string, freeLeases?: number): void {
    this.workers.touch(id, this.now(), freeLeases);
  }

  /** No worker has a session (a coordinator starting). */
  disconnectAllWorkers(): void {
    this.workers.disconnectAll();
  }

  /** Runs leased to each worker now. */
  runningByWorker(): Map<string, number> {
    return this.workers.runningByWorker();
  }

  // ---- reads the coordinator serves -----------------------------------------------------

  /** Every sweep's counts, throughput and ETA, and the workers, at `now`. */
  status(now: number = this.now()): StatusReport {
    return this.store.status(now);
  }

  /** The run hashes of the sweep named `name`; undefined when there is none. */
  sweepRunHashes(name: string): string[] | undefined {
    return this.store.sweepRunHashes(name);
  }

  /** Releases the writer lock (if still held; best effort); the database stays open (its owner closes it). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.lockTimer);
    this.queue.releaseWriterLock(this.owner);
  }
}
