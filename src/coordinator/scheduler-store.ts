/**
 * What the scheduler needs of a database, as one interface: the run queue and the worker
 * registry it writes (src/store/queue.ts), provenance records, and the few reads the coordinator
 * serves (status, a sweep's runs). `sqliteSchedulerStore` is the results database; the
 * scheduler's tests give it an in-memory one (test/scheduler.test.ts), so the scheduler and the
 * coordinator on top of it run without SQLite.
 */
import type { StatusReport } from '../report/status.ts';
import { statusReport } from '../report/status.ts';
import type { Db } from '../store/open.ts';
import { type Provenance, provenanceId } from '../store/provenance.ts';
import type { RunQueue, WorkerRegistry } from '../store/queue.ts';
import { findSweep, sweepRunHashes } from '../store/results-read.ts';
import { SqliteRunQueue } from '../store/run-queue.ts';
import { SqliteWorkerRegistry } from '../store/workers.ts';

export interface SchedulerStore {
  readonly queue: RunQueue;
  readonly workers: WorkerRegistry;
  /** The id of provenance record `p`, inserted when new (a write). */
  provenanceId(p: Provenance): number;
  /** Every sweep's counts, throughput and ETA at `now`, and the workers (src/report/status.ts). */
  status(now: number): StatusReport;
  /** The run hashes of the sweep named `name`; undefined when there is none. */
  sweepRunHashes(name: string): string[] | undefined;
  /**
   * Runs `work`, a long series of write transactions (a sweep recorded in slices), with the
   * store tuned for it; optional.
   */
  bulk?<T>(work: () => Promise<T>): Promise<T>;
}

/**
 * SQLite copies its write-ahead log back into the database (a checkpoint, with an fsync) at the
 * first commit after the log passes `wal_autocheckpoint` pages (1,000 by default). A sweep
 * recorded in slices commits every 20 ms, and each slice touches pages all over the indexes of
 * run hashes (random keys): at the default every slice's commit checkpointed them again, and
 * 100,000 runs took 4 to 6 times as long as in one transaction. Meanwhile checkpoints wait for
 * this many pages (40 MB of 4 KiB pages; one transaction of 100,000 runs grows the log to 120 MB).
 */
const BULK_AUTOCHECKPOINT_PAGES = 10_000;

/** The scheduler's store in the results database `db` (opened for writing: src/store/open.ts). */
export function sqliteSchedulerStore(db: Db): SchedulerStore {
  return {
    queue: new SqliteRunQueue(db),
    workers: new SqliteWorkerRegistry(db),
    provenanceId: (p) => provenanceId(db, p),
    status: (now) => statusReport(db, now),
    sweepRunHashes: (name) => {
      const sweep = findSweep(db, name);
      return sweep === undefined ? undefined : sweepRunHashes(db, sweep.id);
    },
    bulk: async (work) => {
      // a setting of this connection: nothing is written to the file
      const before = db.pragma('wal_autocheckpoint', { simple: true }) as number;
      db.pragma(`wal_autocheckpoint = ${Math.max(before, BULK_AUTOCHECKPOINT_PAGES)}`);
      try {
        return await work();
      } finally {
        if (db.open) db.pragma(`wal_autocheckpoint = ${before}`);
      }
    },
  };
}

/** Whether `x` is a SchedulerStore (else: a database connection). */
export function isSchedulerStore(x: Db | SchedulerStore): x is SchedulerStore {
  return (
    typeof (x as Partial<SchedulerStore>).provenanceId === 'function' &&
    typeof (x as Partial<SchedulerStore>).queue === 'object'
  );
}
