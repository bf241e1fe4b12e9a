/**
 * The store's one door for writes, and the single-writer lock it enforces.
 *
 * One process at a time owns a results database: the one holding the row of `writer_lock`.
 * Taking it writes a fresh random fencing token there; every write transaction of the holder
 * (`writeTransaction`) first checks, under SQLite's write lock, that the row still carries its
 * token. A holder that was suspended (SIGSTOP, a closed laptop, a frozen VM) or cut off long
 * enough for another process to take the lock over therefore notices before its next write,
 * writes nothing more and fails with WriterLockLost naming the new owner: at most one process
 * writes at any moment.
 *
 * Who may take the lock over: nobody while its owner lives. On this host that is decided by the
 * owner's pid (alive, and started when the lock says: a reused pid is another process); a
 * suspended process is alive (the OS is asked through host.ts's HostProbe). An owner on another
 * host is judged by its heartbeat (`refreshed_at`): after `staleMs` without one it counts as gone.
 *
 * Write failures the environment causes (disk full, I/O errors, a foreign program holding the
 * file locked, a read-only file) become one-line StoreFailure / StoreError (errors.ts); the
 * holder then stops writing and its `onFatal` hears of it. `injectWriteFault` is the seam where
 * tests make a write fail as the disk would.
 */
import { randomBytes } from 'node:crypto';
import type { Statement } from 'better-sqlite3';
import { StoreError, StoreFailure, sqliteCode, storeErrorFrom, WriterLockLost } from './errors.ts';
import { type HostProbe, localHost, lockHeld, type LockOwner, type OwnerLiveness } from './host.ts';
import type { Db } from './open.ts';

// the OS probing of the lock and the verdict on its owner live in host.ts (open.ts applies the
// verdict too); these are their names as the lock's users know them
export {
  DEFAULT_LOCK_STALE_MS,
  localOwnerAlive,
  lockHeld,
  type LockOwner,
  type OwnerLiveness,
  processIdentity,
} from './host.ts';

export interface LockRow {
  owner: string;
  owner_started: string;
  token: string;
  acquired_at: number;
  refreshed_at: number;
}

export interface Acquired {
  token: string;
  /** the owner whose lock was taken over (it was dead, or silent past the stale limit) */
  tookOver?: { owner: string; idleMs: number; why: string };
}

interface Holder {
  file: string;
  owner: string;
  token: string;
  onFatal?: (e: Error) => void;
  /** set once this connection must not write again (lock lost or released, a fatal failure) */
  stopped?: Error;
}

const holders = new WeakMap<Db, Holder>();
const lockStatements = new WeakMap<Db, Statement>();

/** A test seam: called inside every write transaction before its statements; what it throws fails that write. */
export type WriteFault = (what: string, file: string) => void;
let fault: WriteFault | undefined;

/** Installs (or with undefined removes) a fault every write transaction of this process goes through. */
export function injectWriteFault(f: WriteFault | undefined): void {
  fault = f;
}

function lockRow(db: Db): LockRow | undefined {
  let st = lockStatements.get(db);
  if (!st) {
    st = db.prepare('SELECT owner, owner_started, token, acquired_at, refreshed_at FROM writer_lock WHERE id = 1');
    lockStatements.set(db, st);
  }
  return st.get() as LockRow | undefined;
}

function lost(h: Holder, row: LockRow | undefined): WriterLockLost {
  if (row) {
    return new WriterLockLost(
      `${h.file}: ${h.owner} lost the writer lock to ${row.owner}, which took the database over while this ` +
        `process was stopped or unreachable; ` +
        `stopped without writing (${row.owner} carries on with the runs)`,
      row.owner,
    );
  }
  return new WriterLockLost(
    `${h.file}: ${h.owner} lost the writer lock: another process took the database over while this one was ` +
      `stopped or unreachable (and has released it since); stopped without writing`,
    undefined,
  );
}

function checkFence(db: Db, h: Holder): void {
  const row = lockRow(db);
  if (!row || row.token !== h.token) throw lost(h, row);
}

function stop(h: Holder, e: Error): void {
  if (h.stopped) return;
  h.stopped = e;
  h.onFatal?.(e);
}

/**
 * Runs `fn` as one write transaction (BEGIN IMMEDIATE: SQLite's write lock first, so reads in
 * it are current and it never fails half-way on a stale snapshot). On a connection holding the
 * writer lock, it first checks the fencing token; SQLite failures become StoreError or
 * StoreFailure naming the file. Inside an enclosing transaction it is a savepoint of it.
 */
export function writeTransaction<T>(db: Db, what: string, fn: () => T): T {
  if (db.inTransaction) return db.transaction(fn)();
  const h = holders.get(db);
  if (h?.stopped) throw h.stopped;
  try {
    // a plain read first: a holder that lost the lock learns it even while the new owner
    // holds SQLite's write lock; the check under the write lock below is the one that counts
    if (h) checkFence(db, h);
    return db
      .transaction((): T => {
        if (h) checkFence(db, h);
        fault?.(what, db.name);
        return fn();
      })
      .immediate();
  } catch (e) {
    const err = storeErrorFrom(e, h?.file ?? db.name);
    if (h && (err instanceof StoreError || err instanceof StoreFailure)) stop(h, err);
    throw err;
  }
}

// ---- the lock ---------------------------------------------------------------------------

/**
 * Takes the writer lock of `db` for `me`, refusing (StoreError) while its owner lives; returns
 * the fencing token, and whose lock it took over. From then on every writeTransaction on `db`
 * checks the token; `onFatal` hears of the first error that stops this connection's writes.
 * `host` tells a suspended owner on this machine (for the refusal's message).
 */
export function acquireWriterLock(
  db: Db,
  me: LockOwner,
  now: number,
  staleMs: number,
  file: string,
  alive: OwnerLiveness,
  onFatal?: (e: Error) => void,
  host: HostProbe = localHost,
): Acquired {
  let acquired: Acquired;
  try {
    acquired = db
      .transaction((): Acquired => {
        const row = lockRow(db);
        let tookOver: Acquired['tookOver'];
        if (row && !(row.owner === me.owner && row.owner_started === me.started)) {
          const held = lockHeld(row, now, staleMs, alive, host);
          if (held)
            throw new StoreError(`${file}: in use by another coordinator (${held}); stop it or use another --db`);
          const idleMs = now - row.refreshed_at;
          const why =
            alive(row.owner, row.owner_started) === false
              ? 'its process is gone'
              : `no heartbeat for ${Math.round(idleMs / 1000)} s`;
          tookOver = { owner: row.owner, idleMs, why };
        }
        const token = randomBytes(16).toString('hex');
        db.prepare(
          'INSERT OR REPLACE INTO writer_lock (id, owner, owner_started, token, acquired_at, refreshed_at) ' +
            'VALUES (1, ?, ?, ?, ?, ?)',
        ).run(me.owner, me.started, token, now, now);
        return { token, tookOver };
      })
      .immediate();
  } catch (e) {
    const code = sqliteCode(e);
    if (code?.startsWith('SQLITE_BUSY') || code?.startsWith('SQLITE_LOCKED')) {
      throw new StoreError(
        `${file}: in use: another process has held its write lock for more than 5 s (a coordinator suspended ` +
          `mid-write?); resume or end it, or use another --db`,
      );
    }
    throw storeErrorFrom(e, file);
  }
  holders.set(db, { file, owner: me.owner, token: acquired.token, onFatal });
  return acquired;
}

/** The holder's heartbeat (a write: it fails with WriterLockLost once the lock was taken over). */
export function refreshWriterLock(db: Db, owner: string, now: number): void {
  const h = holders.get(db);
  if (!h || h.owner !== owner) return;
  writeTransaction(db, 'refresh-lock', () => {
    db.prepare('UPDATE writer_lock SET refreshed_at = ? WHERE id = 1 AND token = ?').run(now, h.token);
  });
}

/**
 * Gives the lock up (only if still ours) and stops this connection's writes. Best effort: when
 * the disk refuses even this, the lock stays with a process that is about to exit, which the
 * next owner on this host takes over at once (and one on another host after `staleMs`).
 */
export function releaseWriterLock(db: Db, owner: string): boolean {
  const h = holders.get(db);
  if (!h || h.owner !== owner) return false;
  h.stopped ??= new StoreError(`${h.file}: this process released the writer lock; it writes no more`);
  try {
    return db.prepare('DELETE FROM writer_lock WHERE id = 1 AND token = ?').run(h.token).changes > 0;
  } catch {
    return false;
  }
}
