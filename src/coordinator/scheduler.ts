/**
 * The scheduler: one queue of runs in SQLite, leased to workers, with heartbeats, expiry and
 * bounded retries. Embedded mode (`run`) and the gRPC coordinator (`serve`) both drive this
 * class; workers (in-process or remote) only ever see leases and report on them.
 *
 * It owns the database as its single writer: construction takes the writer lock (refusing a
 * database another live coordinator holds) and deals with runs a dead predecessor left leased.
 */
import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import type { EpochMetrics } from '../core/train.ts';
import { NUMERICS_VERSION } from '../core/version.ts';
import { canonicalJson } from '../sweep/canonical.ts';
import type { Expansion } from '../sweep/expand.ts';
import { referencesForStorage } from '../sweep/reference.ts';
import type { SweepSpec } from '../sweep/spec.ts';
import type { Db } from '../store/open.ts';
import { localProvenance, provenanceId } from '../store/provenance.ts';
import { type Counts, type Lease, type LeaseRef, type ReportedResult, RunQueue, type SweepRecorded, type Verdict } from '../store/run-queue.ts';

export interface SchedulerOptions {
  /** the database file (for messages) */
  file: string;
  /** a lease lives this long without a heartbeat (ms) */
  leaseTtlMs?: number;
  /** a run whose leases were lost this many times is failed, not re-queued */
  maxLostLeases?: number;
  /** the writer lock counts as abandoned after this long without a refresh (ms) */
  lockStaleMs?: number;
  /**
   * Runs a dead predecessor left leased: 'requeue' at once (embedded mode: its in-process
   * worker died with it) or 'expire' with their leases (a served coordinator: remote workers
   * may still be computing them and report back after reconnecting).
   */
  orphans?: 'requeue' | 'expire';
  now?: () => number;
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
  return `${hostname()}:${process.pid}`;
}

/** Whether a lock owner (host:pid) may still be alive: certain only for pids on this host. */
function ownerAlive(owner: string): boolean {
  const at = owner.lastIndexOf(':');
  if (owner.slice(0, at) !== hostname()) return true;
  const pid = Number(owner.slice(at + 1));
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
  // a killed process nobody has reaped yet still answers signal 0: a zombie is dead
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true; // no /proc (not Linux): trust signal 0
  }
}

/**
 * The definition as the database records it (`sweeps.spec_json`, for change detection and for
 * the tables): the part that decides the runs, and the papers' numbers when the sweep gives any
 * (left out when it gives none, so that sweeps recorded before references existed keep theirs).
 */
export function sweepDefinitionJson(spec: SweepSpec): string {
  const reference = spec.reference.length > 0 ? referencesForStorage(spec.reference) : undefined;
  return canonicalJson({ base: spec.base, grid: spec.grid, cases: spec.cases, zip: spec.zip, exclude: spec.exclude, reference });
}

export class Scheduler {
  readonly queue: RunQueue;
  readonly events = new EventEmitter<{ event: [SchedulerEvent] }>();
  readonly leaseTtlMs: number;
  readonly maxLostLeases: number;
  private readonly now: () => number;
  private readonly owner = processOwner();
  private readonly provenance: number;
  private readonly lockTimer: NodeJS.Timeout;
  private closed = false;

  constructor(db: Db, options: SchedulerOptions) {
    this.queue = new RunQueue(db);
    this.now = options.now ?? Date.now;
    this.leaseTtlMs = options.leaseTtlMs ?? 30_000;
    this.maxLostLeases = options.maxLostLeases ?? 3;
    const staleMs = options.lockStaleMs ?? 15_000;
    this.queue.acquireWriterLock(this.owner, this.now(), staleMs, options.file, ownerAlive);
    const orphans = (options.orphans ?? 'requeue') === 'requeue' ? this.queue.requeueOrphans() : 0;
    if (orphans > 0) this.emit({ kind: 'requeued', count: orphans, failed: 0, why: 'left running by a previous coordinator' });
    this.provenance = provenanceId(db, localProvenance());
    this.lockTimer = setInterval(() => this.queue.refreshWriterLock(this.owner, this.now()), Math.max(1000, staleMs / 3));
    this.lockTimer.unref();
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

  /** Releases the writer lock; the database stays open (its owner closes it). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.lockTimer);
    this.queue.releaseWriterLock(this.owner);
  }
}
