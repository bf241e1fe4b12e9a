/**
 * What the commands that read a results database share (table, plot, report, export, query,
 * status, and the closing tables of run and submit): the default database, a read-only
 * connection whose failures are one-line errors (exit 2), and writing the output to standard
 * output or to a file; plus the comma-separated key lists of --rows, --cols and --group.
 */
import { writeFileSync } from 'node:fs';
import { sqliteCode, StoreFailure, storeErrorFrom } from '../store/errors.ts';
import type { Db } from '../store/open.ts';
import { closeReadonlyStore, openStoreReadonly, StoreError } from '../store/open.ts';
import { QueryError } from '../store/results-read.ts';
import { UsageError } from './errors.ts';

export const DEFAULT_DB = 'results.db';

/**
 * Runs `fn` on a read-only connection to `file`, closed afterwards; a database that cannot be
 * used as asked (missing, foreign, damaged, unreadable, unknown sweep) and bad requests become
 * UsageErrors (exit 2) of one line naming the file, and leave no -wal/-shm files behind.
 */
export function withReadonlyStore<T>(file: string, fn: (db: Db) => T): T {
  // a refused database (StoreError) is an InputError already: exit 2 in one line
  const db: Db = openStoreReadonly(file);
  let damaged = false;
  try {
    return fn(db);
  } catch (e) {
    // an SQLite error while reading (a damaged page, an I/O error), also behind a QueryError
    const behindQuery = e instanceof QueryError && sqliteCode(e.cause) !== undefined ? e.cause : undefined;
    const sqlite = sqliteCode(e) !== undefined ? e : behindQuery;
    if (sqlite !== undefined) {
      const err = storeErrorFrom(sqlite, file, false);
      if (err instanceof StoreError || err instanceof StoreFailure) {
        damaged = true;
        throw new UsageError(err.message);
      }
    }
    throw e;
  } finally {
    closeReadonlyStore(db, damaged);
  }
}

/** Writes to stdout (main.ts ends the command quietly when the reader went away). */
export function writeStdout(text: string): void {
  process.stdout.write(text);
}

/** Writes `text` to `file`; a file that cannot be written is the user's to fix (exit 2). */
export function writeOutFile(file: string, text: string): void {
  try {
    writeFileSync(file, text);
  } catch (e) {
    throw new UsageError(`${file}: cannot write (${(e as Error).message})`);
  }
}

/** `a,b` -> ['a', 'b']; undefined when not given. */
export function keyList(v: unknown): string[] | undefined {
  if (v === undefined) return undefined;
  return String(v)
    .split(',')
    .map((k) => k.trim());
}
