/**
 * What can go wrong with the results database, as errors a command prints in one line:
 *
 * - StoreError: the database cannot be used as asked (missing, foreign, damaged, too new,
 *   read-only, in use by another coordinator, the writer lock lost to another process). Bad
 *   input or a bad place: an InputError, exit code 2 (src/errors.ts).
 * - StoreFailure: the environment failed a write that was allowed (disk full, I/O error, the
 *   file locked by a foreign program). Nothing written is lost; running the same command again
 *   resumes: exit code 1.
 *
 * `storeErrorFrom` turns better-sqlite3's SqliteErrors into these, naming the file; errors it
 * does not recognise (a constraint violated: a bug) pass through unchanged.
 */
import { InputError } from '../errors.ts';

/** A database that cannot be used as asked (missing, foreign, damaged, too new, read-only, busy); exit code 2. */
export class StoreError extends InputError {
  constructor(message: string) {
    super(message);
    this.name = 'StoreError';
  }
}

/**
 * This process held the writer lock and another one took it over (this one was suspended or cut
 * off for longer than the lock's heartbeat allows): it must not write again. Exit code 2.
 */
export class WriterLockLost extends StoreError {
  /** who holds the lock now (undefined when the taker has released it again) */
  readonly newOwner: string | undefined;

  constructor(message: string, newOwner: string | undefined) {
    super(message);
    this.name = 'WriterLockLost';
    this.newOwner = newOwner;
    // a condition of the environment, not a bug: its stack says nothing (logs print one line)
    this.stack = `${this.name}: ${message}`;
  }
}

/** A write the environment failed (disk full, I/O error, locked by a foreign program); exit code 1. */
export class StoreFailure extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StoreFailure';
    this.stack = `${this.name}: ${message}`;
  }
}

/** better-sqlite3's SqliteError, recognised by shape (name and an SQLITE_ code). */
export function sqliteCode(e: unknown): string | undefined {
  if (!(e instanceof Error) || e.name !== 'SqliteError') return undefined;
  const code = (e as Error & { code?: unknown }).code;
  return typeof code === 'string' && code.startsWith('SQLITE_') ? code : undefined;
}

/** What a read-only error means, in words. */
function readonlyReason(code: string): string {
  if (code === 'SQLITE_READONLY_DIRECTORY')
    return 'its directory is read-only (SQLite needs to create its -wal and -shm files there)';
  if (code === 'SQLITE_READONLY_DBMOVED') return 'the file was moved or deleted while open';
  if (
    code === 'SQLITE_READONLY_CANTINIT' ||
    code === 'SQLITE_READONLY_CANTLOCK' ||
    code === 'SQLITE_READONLY_RECOVERY'
  ) {
    return 'its -shm file is read-only for this user';
  }
  return 'the file is read-only for this user';
}

/**
 * The StoreError or StoreFailure an SQLite error on `file` means (`e` itself when it is neither:
 * a bug, or already one of ours). `writing`: the error came from a write (a read-only file is
 * then the problem; on a read it is the missing -shm).
 */
export function storeErrorFrom(e: unknown, file: string, writing = true): Error {
  if (e instanceof StoreError || e instanceof StoreFailure) return e;
  const code = sqliteCode(e);
  const err = e instanceof Error ? e : new Error(String(e));
  if (code === undefined) return err;
  const detail = err.message;
  if (code === 'SQLITE_FULL')
    return new StoreFailure(`${file}: database or disk is full; free space and run the same command to resume`);
  if (code.startsWith('SQLITE_IOERR'))
    return new StoreFailure(
      `${file}: disk I/O error (${code}: ${detail}); check the disk, then run the same command to resume`,
    );
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
    return new StoreFailure(
      `${file}: database is locked by another program (still locked after 5 s: ${detail}); end that program, ` +
        `then run the same command to resume`,
    );
  }
  if (code.startsWith('SQLITE_READONLY')) {
    return new StoreError(
      `${file}: cannot ${writing ? 'write' : 'read'}: ${readonlyReason(code)}` +
        (writing ? '; a command that writes needs write access to the file and its directory' : ''),
    );
  }
  if (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB')
    return new StoreError(`${file}: damaged or not an SQLite database (${detail})`);
  if (code.startsWith('SQLITE_CANTOPEN')) return new StoreError(`${file}: cannot open results database (${detail})`);
  if (code === 'SQLITE_PERM' || code === 'SQLITE_AUTH') return new StoreError(`${file}: access denied (${detail})`);
  return err;
}
