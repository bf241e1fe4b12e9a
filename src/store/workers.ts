/**
 * The worker registry in SQLite (the WorkerRegistry of queue.ts): workers registered with the
 * coordinator, whether their session is connected, the leases they will take and their last
 * heartbeat (what `status` shows). Worker ids survive a coordinator restart, so a worker that
 * reconnects keeps its leases.
 */
import type { Statement } from 'better-sqlite3';
import type { Db } from './open.ts';
import type { NewWorker, WorkerRecord, WorkerRegistry } from './queue.ts';
import { StatementCache } from './statements.ts';
import { writeTransaction } from './writer.ts';

export type { WorkerRecord } from './queue.ts';

export class SqliteWorkerRegistry implements WorkerRegistry {
  private readonly db: Db;
  private readonly statements: StatementCache;

  constructor(db: Db) {
    this.db = db;
    this.statements = new StatementCache(db);
  }

  private sql(text: string): Statement {
    return this.statements.get(text);
  }

  register(w: NewWorker, now: number): void {
    writeTransaction(this.db, 'register-worker', () =>
      this.sql(
        `INSERT INTO workers
           (id, name, host, slots, free_slots, connected, registered_at, last_heartbeat_at, provenance_id)
         VALUES (@id, @name, @host, @slots, 0, 0, @now, @now, @provenanceId)`,
      ).run({ ...w, now }),
    );
  }

  get(id: string): WorkerRecord | undefined {
    return this.sql('SELECT * FROM workers WHERE id = ?').get(id) as WorkerRecord | undefined;
  }

  /** A session opened or closed. */
  setConnected(id: string, connected: boolean, now: number): void {
    writeTransaction(this.db, 'worker-connected', () =>
      this.sql('UPDATE workers SET connected = ?, last_heartbeat_at = ? WHERE id = ?').run(connected ? 1 : 0, now, id),
    );
  }

  /** A heartbeat or slots update arrived (with the free leases it announced: the free_slots column). */
  touch(id: string, now: number, freeLeases?: number): void {
    writeTransaction(this.db, 'worker-heartbeat', () => {
      if (freeLeases === undefined) this.sql('UPDATE workers SET last_heartbeat_at = ? WHERE id = ?').run(now, id);
      else this.sql('UPDATE workers SET last_heartbeat_at = ?, free_slots = ? WHERE id = ?').run(now, freeLeases, id);
    });
  }

  /** Every session is closed after a coordinator restart. */
  disconnectAll(): void {
    writeTransaction(this.db, 'workers-disconnected', () => this.sql('UPDATE workers SET connected = 0').run());
  }

  /** Runs leased to each worker now. */
  runningByWorker(): Map<string, number> {
    const rows = this.sql(
      "SELECT worker, count(*) AS n FROM runs WHERE status = 'running' AND worker IS NOT NULL GROUP BY worker",
    ).all() as { worker: string; n: number }[];
    return new Map(rows.map((r) => [r.worker, r.n]));
  }
}
