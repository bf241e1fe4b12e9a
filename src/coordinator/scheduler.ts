/**
 * The scheduler: one queue of runs in SQLite, leased to workers, with heartbeats, expiry and
 * bounded retries. Embedded mode (`run`) and the gRPC coordinator (`serve`) both drive this
 * class; workers (in-process or remote) only ever see leases and report on them.
 *
 * It owns the database as its single writer: construction takes the writer lock (refusing a
 * database whose owner is alive), refreshes it as a heartbeat and deals with runs a dead
 * predecessor left leased. Every write checks the lock's fencing token (src/store/writer.ts): a
 * scheduler whose lock was taken over while it was suspended writes nothing more, and `failed`
 * aborts with the error that stopped it (that, a full disk, an I/O error), so that its owner
 * stops too.
 */
import { EventEmitter } from 'node:events';
import type { EpochMetrics } from '../core/train.ts';
import { NUMERICS_VERSION } from '../core/version.ts';
import { canonicalJson } from '../sweep/canonical.ts';
import type { Expansion } from '../sweep/expand.ts';
import { referencesForStorage } from '../sweep/reference.ts';
import type { SweepSpec } from '../sweep/spec.ts';
import { viewForStorage } from '../sweep/view.ts';
import type { Db } from '../store/open.ts';
import { localProvenance, provenanceId } from '../store/provenance.ts';
import { type Counts, type Lease, type LeaseRef, type ReportedResult, RunQueue, type SweepRecorded, type Verdict } from '../store/run-queue.ts';
import { type Acquired, DEFAULT_LOCK_STALE_MS, localOwnerAlive, type OwnerLiveness, processIdentity } from '../store/writer.ts';

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
  now?: () => number;
  /** whether a lock owner lives (default: its pid on this host, its heartbeat elsewhere) */
  ownerAlive?: OwnerLiveness;
  /** this process as a lock owner (default: host:pid and the process's start time) */
  identity?: { owner: string; started: string };
}

/** What the scheduler tells its listeners (progress display, watch streams). */
export type SchedulerEvent =
  | { kind: 'leased'; worker: string; lease: LeaseRef }
  | { kind: 'progress'; worker: string; lease: LeaseRef; metrics: EpochMetrics }
  | { kind: 'finished'; worker: string; lease: LeaseRef; status: 'done' | 'failed'; error?: string; final?: EpochMetrics }
  | { kind: 'requeued'; count: number; failed: number; why: string }
  | { kind: 'rejected'; worker: string; lease: LeaseRef; what: string; reason: string };

/** This process as a lock owner: host:pid. */
export function processOwner(): string {
  return processIdentity().owner;
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
  return canonicalJson({ base: spec.base, grid: spec.grid, cases: spec.cases, zip: spec.zip, exclude: spec.exclude, reference, view });
}

export class Scheduler {
  readonly queue: RunQueue;
  readonly events = new EventEmitter<{ event: [SchedulerEvent] }>();
  readonly leaseTtlMs: number;
  readonly maxLostLeases: number;
  /** whose writer lock this scheduler took over (its owner was dead, or silent past the stale limit) */
  readonly tookOver: Acquired['tookOver'];
  /**
   * Aborts, with the error as its reason, once this scheduler may no longer write: its lock was
   * taken over (WriterLockLost), the disk failed a write (StoreFailure), the file became unusable.
   */
  readonly failed: AbortSignal;
  private readonly failure = new AbortController();
  private readonly now: () => number;
  private readonly owner: string;
  private readonly provenance: number;
  private readonly lockTimer: NodeJS.Timeout;
  private closed = false;

  constructor(db: Db, options: SchedulerOptions) {
    this.queue = new RunQueue(db);
    this.failed = this.failure.signal;
    this.now = options.now ?? Date.now;
    this.leaseTtlMs = options.leaseTtlMs ?? 30_000;
    this.maxLostLeases = options.maxLostLeases ?? 3;
    const staleMs = options.lockStaleMs ?? DEFAULT_LOCK_STALE_MS;
    const me = options.identity ?? processIdentity();
    this.owner = me.owner;
    const acquired = this.queue.acquireWriterLock(me.owner, this.now(), staleMs, options.file, options.ownerAlive ?? localOwnerAlive, me.started, (e) => this.stopWriting(e));
    this.tookOver = acquired.tookOver;
    try {
      const orphans = (options.orphans ?? 'requeue') === 'requeue' ? this.queue.requeueOrphans() : 0;
      if (orphans > 0) this.emit({ kind: 'requeued', count: orphans, failed: 0, why: 'left running by a previous coordinator' });
      this.provenance = provenanceId(db, localProvenance());
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

  /** Records a sweep and its runs; identical runs already in the database are not added again. */
  submit(spec: SweepSpec, expansion: Expansion): SweepRecorded {
    return this.queue.recordSweep(
      {
        name: spec.name,
        description: spec.description,
        specJson: sweepDefinitionJson(spec),
        source: spec.file,
        provenanceId: this.provenance,
        runs: expansion.runs.map((r) => ({
          hash: r.hash,
          configJson: canonicalJson(r.config),
          numericsVersion: NUMERICS_VERSION,
          assignmentsJson: canonicalJson(r.assignments),
        })),
      },
      this.now(),
    );
  }

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
  complete(worker: string, lease: LeaseRef, result: ReportedResult, provenance: number | null = this.provenance): Verdict {
    const v = this.queue.complete(worker, lease, result, this.now(), provenance ?? undefined);
    if (v.accepted) {
      const failed = this.queue.runError(lease.hash);
      const final = result.history[result.history.length - 1];
      this.emit({ kind: 'finished', worker, lease, status: failed === undefined ? 'done' : 'failed', error: failed, final });
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
    if (r.requeued + r.failed > 0) this.emit({ kind: 'requeued', count: r.requeued, failed: r.failed, why: 'lease expired' });
    return r;
  }

  counts(sweepId?: number): Counts {
    return this.queue.counts(sweepId);
  }

  /** Releases the writer lock (if still held; best effort); the database stays open (its owner closes it). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.lockTimer);
    this.queue.releaseWriterLock(this.owner);
  }
}
