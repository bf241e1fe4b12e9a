/**
 * The run queue's contract, without SQL: the types its users share (leases, verdicts, reported
 * results, run states: the worker, the wire conversions and the reports import them from here)
 * and the interfaces the scheduler drives, RunQueue and WorkerRegistry. The SQLite
 * implementations are run-queue.ts (SqliteRunQueue) and workers.ts (SqliteWorkerRegistry); the
 * scheduler's tests also drive an in-memory one (test/scheduler.test.ts).
 *
 * Every method that writes is one transaction of the implementation: a crash at any moment
 * leaves the queue consistent. Reports (progress, result, failure, release) are accepted only
 * from the worker holding the run's current attempt; anything else is answered with a Verdict
 * naming why, and changes nothing.
 */
import type { EpochMetrics, RunResult } from '../core/tasks/run-result.ts';
import type { HostProbe, OwnerLiveness } from './host.ts';
import type { Acquired } from './writer.ts';

export type RunStatus = 'queued' | 'running' | 'done' | 'failed';

/** One lease: the run and the attempt it was leased as. */
export interface LeaseRef {
  hash: string;
  attempt: number;
}
/** A lease as granted: its run's canonical config comes with it. */
export interface Lease extends LeaseRef {
  configJson: string;
}
/** What a worker reports of a finished run (the config is the coordinator's own). */
export type ReportedResult = Pick<RunResult, 'numerics_version' | 'history' | 'weights_digest' | 'wall_ms'>;

export type Verdict = { accepted: true } | { accepted: false; reason: string };

export type Counts = Record<RunStatus, number>;

/** One run of a sweep as the queue records it. */
export interface SweepRunInput {
  hash: string;
  /** the canonical config (what the run's hash was computed from) */
  configJson: string;
  numericsVersion: number;
  /** the swept values that made the run, canonical JSON */
  assignmentsJson: string;
}
/** A sweep's own row: its name and definition. */
export interface SweepHeader {
  name: string;
  description: string;
  /** the definition as recorded (compared to tell a changed definition) */
  specJson: string;
  /** the file it was read from */
  source: string;
  provenanceId?: number;
}
export interface SweepInput extends SweepHeader {
  runs: SweepRunInput[];
}
/** A sweep's row written, its runs not yet (openSweep). */
export interface OpenedSweep {
  sweepId: number;
  /** the sweep existed with another definition: its runs were dropped from it, to be added again */
  definitionChanged: boolean;
  /** the runs it had before (empty for a new sweep) */
  before: ReadonlySet<string>;
  /** whether the sweep existed */
  existed: boolean;
}
export interface SweepRecorded {
  sweepId: number;
  /** runs in the sweep now */
  total: number;
  /** runs the database did not hold before (in any sweep) */
  newRuns: number;
  /** when the sweep existed with another definition: runs joined and left it */
  definitionChanged: boolean;
  joined: number;
  left: number;
}

/** What `recordSweep` reports, from what openSweep and addSweepRuns did. */
export function sweepRecorded(opened: OpenedSweep, runs: readonly { hash: string }[], newRuns: number): SweepRecorded {
  const members = new Set(runs.map((r) => r.hash));
  let joined = 0;
  let left = 0;
  if (opened.existed) {
    for (const h of members) if (!opened.before.has(h)) joined++;
    for (const h of opened.before) if (!members.has(h)) left++;
  }
  return {
    sweepId: opened.sweepId,
    total: members.size,
    newRuns,
    definitionChanged: opened.definitionChanged,
    joined,
    left,
  };
}

/** The queue of runs: sweeps, leases, reports, expiry, and the single-writer lock that guards it. */
export interface RunQueue {
  // ---- sweeps
  /**
   * Records a sweep and its runs in one transaction (insert-or-ignore by run hash). Re-recording
   * the same name resumes it; with a changed definition the membership follows the new one
   * (results of runs that left stay, under their hash). Equivalent to openSweep and one
   * addSweepRuns of every run, atomically.
   */
  recordSweep(s: SweepInput, now: number): SweepRecorded;
  /** The first step of recording a sweep in parts: its row (and, for a changed definition, its runs dropped). */
  openSweep(s: SweepHeader, now: number): OpenedSweep;
  /**
   * Adds runs to a sweep opened before (`first`: the position of runs[0] in its expansion); returns how many runs were
   * new.
   */
  addSweepRuns(sweepId: number, runs: readonly SweepRunInput[], first: number, now: number): number;
  /** Run counts by status, of one sweep or of the whole queue. */
  counts(sweepId?: number): Counts;
  /** The error of a failed run (undefined unless the run failed). */
  runError(hash: string): string | undefined;
  /** Failed runs of a sweep back to the queue (their lost-lease count reset); returns how many. */
  retryFailed(sweepId: number): number;

  // ---- leases
  /**
   * Leases up to `max` queued runs to `worker` (oldest sweeps first, in expansion order), each as
   * a new attempt that expires at `now + ttlMs` unless heartbeats extend it; `sweepId` restricts
   * the choice to one sweep.
   */
  lease(worker: string, max: number, now: number, ttlMs: number, sweepId?: number): Lease[];
  /** Extends the leases `worker` still holds to `now + ttlMs`; returns those it listed but no longer holds. */
  heartbeat(worker: string, held: LeaseRef[], now: number, ttlMs: number): LeaseRef[];
  /** One epoch's metrics of a leased run. */
  progress(worker: string, ref: LeaseRef, m: EpochMetrics): Verdict;
  /** The result of the current attempt (a non-finite metric records the run as failed). */
  complete(worker: string, ref: LeaseRef, result: ReportedResult, now: number, provenanceId?: number): Verdict;
  /** The current attempt failed with `error` (and reached `history`): the run is failed, not retried. */
  fail(worker: string, ref: LeaseRef, error: string, now: number, history?: EpochMetrics[]): Verdict;
  /** A lease handed back unfinished: the run is queued again. */
  release(worker: string, ref: LeaseRef): Verdict;
  /** Leases past their expiry: re-queued, or failed once a run has lost `maxLostLeases` leases. */
  expireLeases(now: number, maxLostLeases: number): { requeued: number; failed: number };
  /** Runs left leased by a dead predecessor, back to the queue without counting against them. */
  requeueOrphans(): number;

  // ---- the single writer (src/store/writer.ts)
  /**
   * Takes the writer lock for `owner` (its process started at `started`), refused while its
   * owner lives (`ownerAlive`; another host's owner: until `staleMs` without a refresh). From
   * then on every write checks the lock's fencing token; `onFatal` hears of the first error that
   * stops the queue's writes; `host` tells a suspended owner on this machine (for the message).
   */
  acquireWriterLock(
    owner: string,
    now: number,
    staleMs: number,
    file: string,
    ownerAlive: OwnerLiveness,
    started?: string,
    onFatal?: (e: Error) => void,
    host?: HostProbe,
  ): Acquired;
  /** `owner`'s heartbeat; throws WriterLockLost once another process took the lock over. */
  refreshWriterLock(owner: string, now: number): void;
  /** Gives `owner`'s lock up if still held (best effort); the queue writes no more. */
  releaseWriterLock(owner: string): boolean;
}

/** A worker registered with the coordinator. */
export interface WorkerRecord {
  id: string;
  name: string;
  host: string;
  /** runs it computes at once (its threads) */
  slots: number;
  /**
   * the leases it last said it would take more of (SlotsUpdate.free: it holds up to
   * LEASES_PER_THREAD per slot), not idle threads; the column keeps its historical name
   */
  free_slots: number;
  connected: number;
  registered_at: number;
  last_heartbeat_at: number;
  provenance_id: number | null;
}

export interface NewWorker {
  id: string;
  name: string;
  host: string;
  slots: number;
  provenanceId: number;
}

/**
 * The workers the coordinator knows: whether their session is connected, the leases they will
 * take and when they were last heard from (what `status` shows). Ids survive a coordinator
 * restart, so a worker that reconnects keeps its leases.
 */
export interface WorkerRegistry {
  register(w: NewWorker, now: number): void;
  get(id: string): WorkerRecord | undefined;
  /** A session opened or closed. */
  setConnected(id: string, connected: boolean, now: number): void;
  /** A heartbeat or slots update arrived (with the free leases it announced). */
  touch(id: string, now: number, freeLeases?: number): void;
  /** Every session is closed (after a coordinator restart). */
  disconnectAll(): void;
  /** Runs leased to each worker now. */
  runningByWorker(): Map<string, number>;
}
