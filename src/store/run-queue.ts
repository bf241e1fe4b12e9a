/**
 * The run queue in SQLite (the RunQueue of queue.ts): every write the scheduler makes (sweeps
 * and their runs, leases, heartbeats, progress, results, failures, expiry). Each method is one
 * transaction, so a crash at any moment leaves the database consistent; results are accepted
 * only from the worker holding the current attempt's lease, so a late result from a dead lease
 * is rejected, never duplicated. Every write goes through writer.ts's writeTransaction (BEGIN
 * IMMEDIATE, the writer lock's fencing token checked first, SQLite failures as one-line errors).
 */
import { EPOCH_METRICS } from '../core/tasks/run-result.ts';
import type { EpochMetrics } from '../core/tasks/run-result.ts';
import type { Statement } from 'better-sqlite3';
import type { HostProbe, OwnerLiveness } from './host.ts';
import type { Db } from './open.ts';
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
} from './queue.ts';
import { StatementCache } from './statements.ts';
import { type Acquired, acquireWriterLock, refreshWriterLock, releaseWriterLock, writeTransaction } from './writer.ts';

/** The metric columns of epoch_metrics and results (one per EpochMetrics number but wall_ms). */
const METRIC_COLUMNS = EPOCH_METRICS;
const METRIC_NAMES = METRIC_COLUMNS.join(', ');
const METRIC_PARAMS = METRIC_COLUMNS.map((c) => `@${c}`).join(', ');
const INSERT_EPOCH = `INSERT OR REPLACE INTO epoch_metrics
    (run_hash, attempt, epoch, ${METRIC_NAMES}, wall_ms, pulses_json)
  VALUES (@run_hash, @attempt, @epoch, ${METRIC_PARAMS}, @wall_ms, @pulses_json)`;

function metricRow(m: EpochMetrics): Record<string, number | string | null> {
  const row: Record<string, number | string | null> = {};
  for (const c of METRIC_COLUMNS) row[c] = m[c] ?? null;
  row.wall_ms = m.wall_ms ?? null;
  row.pulses_json = JSON.stringify(m.pulses ?? {});
  return row;
}

const isFiniteNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** Why an epoch record from a peer cannot be stored at all (undefined when well-formed). */
function malformedEpoch(m: unknown): string | undefined {
  if (typeof m !== 'object' || m === null) return 'epoch record is not an object';
  const e = m as Record<string, unknown>;
  if (!Number.isInteger(e.epoch) || (e.epoch as number) < 0) return 'epoch number is not a non-negative integer';
  if (typeof e.train_loss !== 'number') return 'train_loss is missing';
  for (const c of METRIC_COLUMNS) if (e[c] !== undefined && typeof e[c] !== 'number') return `${c} is not a number`;
  if (e.wall_ms !== undefined && typeof e.wall_ms !== 'number') return 'wall_ms is not a number';
  if (typeof e.pulses !== 'object' || e.pulses === null) return 'pulses is not an object';
  for (const v of Object.values(e.pulses)) if (!isFiniteNumber(v)) return 'a pulse count is not a finite number';
  return undefined;
}

/** The first non-finite metric of a run's history ("train_loss at epoch 3"), if any. */
function nonFinite(history: EpochMetrics[]): string | undefined {
  for (const m of history)
    for (const c of METRIC_COLUMNS) if (m[c] !== undefined && !Number.isFinite(m[c])) return `${c} at epoch ${m.epoch}`;
  return undefined;
}

export class SqliteRunQueue implements RunQueue {
  private readonly db: Db;
  private readonly statements: StatementCache;

  constructor(db: Db) {
    this.db = db;
    this.statements = new StatementCache(db);
  }

  private sql(text: string): Statement {
    return this.statements.get(text);
  }

  // ---- sweeps ---------------------------------------------------------------------------

  /**
   * Records a sweep and its runs in one transaction (insert-or-ignore by run hash). Re-recording
   * the same name resumes it; with a changed definition the membership follows the new one
   * (results of runs that left stay in the database, under their hash).
   */
  recordSweep(s: SweepInput, now: number): SweepRecorded {
    return writeTransaction(this.db, 'record-sweep', (): SweepRecorded => {
      const opened = this.openSweep(s, now);
      return sweepRecorded(opened, s.runs, this.addSweepRuns(opened.sweepId, s.runs, 0, now));
    });
  }

  /**
   * The sweep's row, created or updated to `s`; when its definition changed, its runs are
   * dropped from it (addSweepRuns adds those of the new definition).
   */
  openSweep(s: SweepHeader, now: number): OpenedSweep {
    return writeTransaction(this.db, 'record-sweep', (): OpenedSweep => {
      const existing = this.sql('SELECT id, spec_json FROM sweeps WHERE name = ?').get(s.name) as
        { id: number; spec_json: string } | undefined;
      if (!existing) {
        const sweepId = Number(
          this.sql(
            'INSERT INTO sweeps (name, description, spec_json, source, created_at, updated_at, provenance_id) ' +
              'VALUES (?, ?, ?, ?, ?, ?, ?)',
          ).run(s.name, s.description, s.specJson, s.source, now, now, s.provenanceId ?? null).lastInsertRowid,
        );
        return { sweepId, definitionChanged: false, before: new Set(), existed: false };
      }
      const sweepId = existing.id;
      const definitionChanged = existing.spec_json !== s.specJson;
      const before = new Set(
        (this.sql('SELECT run_hash FROM sweep_runs WHERE sweep_id = ?').all(sweepId) as { run_hash: string }[]).map(
          (r) => r.run_hash,
        ),
      );
      this.sql('UPDATE sweeps SET description = ?, spec_json = ?, source = ?, updated_at = ? WHERE id = ?').run(
        s.description,
        s.specJson,
        s.source,
        now,
        sweepId,
      );
      if (definitionChanged) this.sql('DELETE FROM sweep_runs WHERE sweep_id = ?').run(sweepId);
      return { sweepId, definitionChanged, before, existed: true };
    });
  }

  /**
   * Adds runs to sweep `sweepId` (insert-or-ignore), runs[i] at position first + i; returns the runs new to the
   * database.
   */
  addSweepRuns(sweepId: number, runs: readonly SweepRunInput[], first: number, now: number): number {
    return writeTransaction(this.db, 'record-sweep-runs', (): number => {
      const insertRun = this.sql(
        'INSERT OR IGNORE INTO runs (hash, config_json, numerics_version, status, created_at) VALUES (?, ?, ?, ' +
          "'queued', ?)",
      );
      const insertMember = this.sql(
        'INSERT OR IGNORE INTO sweep_runs (sweep_id, run_hash, position, assignments_json) VALUES (?, ?, ?, ?)',
      );
      let newRuns = 0;
      runs.forEach((r, i) => {
        newRuns += insertRun.run(r.hash, r.configJson, r.numericsVersion, now).changes;
        insertMember.run(sweepId, r.hash, first + i, r.assignmentsJson);
      });
      return newRuns;
    });
  }

  /** Run counts by status, of one sweep or of the whole database. */
  counts(sweepId?: number): Counts {
    const rows = (
      sweepId === undefined
        ? this.sql('SELECT status, count(*) AS n FROM runs GROUP BY status').all()
        : this.sql(
            'SELECT r.status, count(*) AS n FROM runs r JOIN sweep_runs s ON s.run_hash = r.hash WHERE ' +
              's.sweep_id = ? GROUP BY r.status',
          ).all(sweepId)
    ) as { status: RunStatus; n: number }[];
    const counts: Counts = { queued: 0, running: 0, done: 0, failed: 0 };
    for (const r of rows) counts[r.status] = r.n;
    return counts;
  }

  /** The error of a failed run (undefined unless the run failed). */
  runError(hash: string): string | undefined {
    const row = this.sql('SELECT status, error FROM runs WHERE hash = ?').get(hash) as
      { status: RunStatus; error: string | null } | undefined;
    return row?.status === 'failed' ? (row.error ?? 'failed') : undefined;
  }

  /** Failed runs of a sweep back to the queue (their lost-lease count reset). */
  retryFailed(sweepId: number): number {
    return writeTransaction(
      this.db,
      'retry-failed',
      () =>
        this.sql(
          `UPDATE runs SET status = 'queued', error = NULL, lost_leases = 0, worker = NULL
           WHERE status = 'failed' AND hash IN (SELECT run_hash FROM sweep_runs WHERE sweep_id = ?)`,
        ).run(sweepId).changes,
    );
  }

  // ---- leases ---------------------------------------------------------------------------

  /**
   * Leases up to `max` queued runs to `worker` (oldest sweeps first, in expansion order),
   * each as a new attempt that expires at `now + ttlMs` unless heartbeats extend it.
   * `sweepId` restricts the choice to one sweep (embedded mode runs only its own).
   */
  lease(worker: string, max: number, now: number, ttlMs: number, sweepId?: number): Lease[] {
    if (max <= 0) return [];
    return writeTransaction(this.db, 'lease', (): Lease[] => {
      // oldest queued first (rowid: insertion order, so a sweep's expansion order), through the
      // status index, so a lease costs the same on the first run of a sweep and on the last
      const picked = (
        sweepId === undefined
          ? this.sql(
              // a run that left every sweep (a re-defined sweep) is nobody's work any more
              `SELECT hash FROM runs WHERE status = 'queued'
               AND EXISTS (SELECT 1 FROM sweep_runs s WHERE s.run_hash = runs.hash) ORDER BY rowid LIMIT ?`,
            ).all(max)
          : this.sql(
              `SELECT hash FROM runs WHERE status = 'queued'
               AND EXISTS (SELECT 1 FROM sweep_runs s WHERE s.sweep_id = ? AND s.run_hash = runs.hash)
               ORDER BY rowid LIMIT ?`,
            ).all(sweepId, max)
      ) as { hash: string }[];
      const take = this.sql(
        `UPDATE runs SET status = 'running', attempt = attempt + 1, worker = ?, started_at = ?, lease_expires_at = ?,
           error = NULL
         WHERE hash = ? AND status = 'queued' RETURNING attempt, config_json`,
      );
      const leases: Lease[] = [];
      for (const { hash } of picked) {
        const row = take.get(worker, now, now + ttlMs, hash) as { attempt: number; config_json: string } | undefined;
        if (row) leases.push({ hash, attempt: row.attempt, configJson: row.config_json });
      }
      return leases;
    });
  }

  /** Extends the leases `worker` still holds; returns those it reported but no longer holds. */
  heartbeat(worker: string, held: LeaseRef[], now: number, ttlMs: number): LeaseRef[] {
    return writeTransaction(this.db, 'heartbeat', (): LeaseRef[] => {
      const extend = this.sql(
        "UPDATE runs SET lease_expires_at = ? WHERE hash = ? AND attempt = ? AND worker = ? AND status = 'running'",
      );
      return held.filter((l) => extend.run(now + ttlMs, l.hash, l.attempt, worker).changes === 0);
    });
  }

  /** Why `worker` may not report on `ref` (undefined when it holds the current lease). */
  private notHolder(worker: string, ref: LeaseRef): string | undefined {
    const row = this.sql('SELECT status, attempt, worker FROM runs WHERE hash = ?').get(ref.hash) as
      { status: RunStatus; attempt: number; worker: string | null } | undefined;
    if (!row) return 'unknown run';
    if (row.attempt !== ref.attempt) return `stale attempt ${ref.attempt} (current ${row.attempt})`;
    if (row.status !== 'running') return `run is ${row.status}, not leased`;
    if (row.worker !== worker) return 'lease held by another worker';
    return undefined;
  }

  /** Stores one epoch's metrics of a leased run (progress); false when not the holder. */
  progress(worker: string, ref: LeaseRef, m: EpochMetrics): Verdict {
    const bad = malformedEpoch(m);
    if (bad) return { accepted: false, reason: `malformed progress: ${bad}` };
    return writeTransaction(this.db, 'progress', (): Verdict => {
      const reason = this.notHolder(worker, ref);
      if (reason) return { accepted: false, reason };
      this.sql(INSERT_EPOCH).run({ run_hash: ref.hash, attempt: ref.attempt, epoch: m.epoch, ...metricRow(m) });
      return { accepted: true };
    });
  }

  /**
   * Accepts the result of the current attempt from the worker holding its lease: final metrics,
   * the whole history (replacing progress rows, dropping rows of older attempts) and the status,
   * in one transaction. A result with a non-finite metric is recorded as a failed run.
   */
  complete(worker: string, ref: LeaseRef, result: ReportedResult, now: number, provenanceId?: number): Verdict {
    if (
      typeof result !== 'object' ||
      result === null ||
      !Array.isArray(result.history) ||
      result.history.length === 0
    ) {
      return { accepted: false, reason: 'malformed result: no history' };
    }
    for (const m of result.history) {
      const bad = malformedEpoch(m);
      if (bad) return { accepted: false, reason: `malformed result: ${bad}` };
    }
    if (typeof result.weights_digest !== 'string')
      return { accepted: false, reason: 'malformed result: no weights digest' };
    const diverged = nonFinite(result.history);
    if (diverged) return this.fail(worker, ref, `diverged: non-finite ${diverged}`, now, result.history);
    return writeTransaction(this.db, 'complete', (): Verdict => {
      const reason = this.notHolder(worker, ref);
      if (reason) return { accepted: false, reason };
      const { numerics_version } = this.sql('SELECT numerics_version FROM runs WHERE hash = ?').get(ref.hash) as {
        numerics_version: number;
      };
      if (result.numerics_version !== numerics_version) {
        return {
          accepted: false,
          reason:
            `result computed with numerics version ${String(result.numerics_version)}, the run needs ` +
            `${numerics_version}`,
        };
      }
      this.writeHistory(ref, result.history);
      const final = result.history[result.history.length - 1];
      this.sql(
        `INSERT OR REPLACE INTO results (run_hash, attempt, epochs, ${METRIC_NAMES}, pulses_json,
           weights_digest, wall_ms, worker, provenance_id, finished_at)
         VALUES (@run_hash, @attempt, @epochs, ${METRIC_PARAMS}, @pulses_json,
           @weights_digest, @wall_ms, @worker, @provenance_id, @finished_at)`,
      ).run({
        run_hash: ref.hash,
        attempt: ref.attempt,
        epochs: final.epoch,
        ...metricRow(final),
        weights_digest: result.weights_digest,
        wall_ms: isFiniteNumber(result.wall_ms) ? result.wall_ms : null,
        worker,
        provenance_id: provenanceId ?? null,
        finished_at: now,
      });
      this.sql(
        "UPDATE runs SET status = 'done', finished_at = ?, lease_expires_at = NULL, error = NULL WHERE hash = ?",
      ).run(now, ref.hash);
      return { accepted: true };
    });
  }

  /** Records the current attempt as failed with its error (and the history it reached, if any). */
  fail(worker: string, ref: LeaseRef, error: string, now: number, history?: EpochMetrics[]): Verdict {
    return writeTransaction(this.db, 'fail', (): Verdict => {
      const reason = this.notHolder(worker, ref);
      if (reason) return { accepted: false, reason };
      if (history) this.writeHistory(ref, history);
      this.sql(
        "UPDATE runs SET status = 'failed', finished_at = ?, lease_expires_at = NULL, error = ? WHERE hash = ?",
      ).run(now, error.slice(0, 4000), ref.hash);
      return { accepted: true };
    });
  }

  /** A lease handed back unfinished (a draining worker): the run is queued again. */
  release(worker: string, ref: LeaseRef): Verdict {
    return writeTransaction(this.db, 'release', (): Verdict => {
      const reason = this.notHolder(worker, ref);
      if (reason) return { accepted: false, reason };
      this.sql("UPDATE runs SET status = 'queued', worker = NULL, lease_expires_at = NULL WHERE hash = ?").run(
        ref.hash,
      );
      return { accepted: true };
    });
  }

  /**
   * Leases whose heartbeats stopped: re-queued (attempt + 1 at the next lease), or failed once
   * a run has lost `maxLostLeases` leases (a run that kills its worker is not retried forever).
   */
  expireLeases(now: number, maxLostLeases: number): { requeued: number; failed: number } {
    return writeTransaction(this.db, 'expire-leases', () => {
      const failed = this.sql(
        `UPDATE runs SET status = 'failed', lost_leases = lost_leases + 1, lease_expires_at = NULL, finished_at = @now,
           error = 'lease expired ' || (lost_leases + 1) || ' times (last on ' || coalesce(worker, '?') || ')'
         WHERE status = 'running' AND lease_expires_at < @now AND lost_leases + 1 >= @max`,
      ).run({ now, max: maxLostLeases }).changes;
      const requeued = this.sql(
        `UPDATE runs SET status = 'queued', lost_leases = lost_leases + 1, worker = NULL, lease_expires_at = NULL
         WHERE status = 'running' AND lease_expires_at < @now`,
      ).run({ now }).changes;
      return { requeued, failed };
    });
  }

  /**
   * Runs left `running` by a coordinator that died (embedded mode's kill -9): back to the
   * queue without counting against them. Call only while holding the writer lock.
   */
  requeueOrphans(): number {
    return writeTransaction(
      this.db,
      'requeue-orphans',
      () =>
        this.sql(
          "UPDATE runs SET status = 'queued', worker = NULL, lease_expires_at = NULL WHERE status = 'running'",
        ).run().changes,
    );
  }

  private writeHistory(ref: LeaseRef, history: EpochMetrics[]): void {
    this.sql('DELETE FROM epoch_metrics WHERE run_hash = ? AND attempt <> ?').run(ref.hash, ref.attempt);
    const insert = this.sql(INSERT_EPOCH);
    for (const m of history) insert.run({ run_hash: ref.hash, attempt: ref.attempt, epoch: m.epoch, ...metricRow(m) });
  }

  // ---- the single writer (src/store/writer.ts) -------------------------------------------

  /**
   * Takes the writer lock for `owner` (host:pid, its process started at `started`). While the
   * owner of the lock lives it is refused: `ownerAlive` says true or false where this host can
   * tell (a process on this host: suspended counts as alive), undefined where only the lock's
   * heartbeat can (another host: gone after `staleMs` without a refresh). From then on every
   * write of this queue's connection checks the lock's fencing token.
   */
  acquireWriterLock(
    owner: string,
    now: number,
    staleMs: number,
    file: string,
    ownerAlive: OwnerLiveness,
    started = '',
    onFatal?: (e: Error) => void,
    host?: HostProbe,
  ): Acquired {
    return acquireWriterLock(this.db, { owner, started }, now, staleMs, file, ownerAlive, onFatal, host);
  }

  /** `owner`'s heartbeat; WriterLockLost once another process took the lock over. */
  refreshWriterLock(owner: string, now: number): void {
    refreshWriterLock(this.db, owner, now);
  }

  /** Gives `owner`'s lock up if still held (best effort); this connection writes no more. */
  releaseWriterLock(owner: string): boolean {
    return releaseWriterLock(this.db, owner);
  }
}
