/**
 * Opening the results database: WAL mode (readers never block the single writer), migrations
 * applied step by step in transactions, and clear errors for files that are not ours or come
 * from a newer aimc-sweep.
 */
import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import { MIGRATIONS, SCHEMA_VERSION } from './migrations.ts';

export type Db = Database.Database;

/** A database that cannot be used as asked (missing, foreign, too new); exit code 2. */
export class StoreError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StoreError';
  }
}

function userVersion(db: Db): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/** Applies the migrations `db` lacks; returns the versions applied. */
export function migrate(db: Db, file: string): number[] {
  const current = userVersion(db);
  if (current > SCHEMA_VERSION) {
    throw new StoreError(`${file}: schema version ${current} was written by a newer aimc-sweep (this one knows up to ${SCHEMA_VERSION}); upgrade aimc-sweep`);
  }
  if (current === 0) {
    const tables = db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table'").get() as { n: number };
    if (tables.n > 0) throw new StoreError(`${file}: not an aimc-sweep results database (it has tables but no schema version)`);
  }
  const applied: number[] = [];
  for (const m of MIGRATIONS) {
    if (m.version <= current) continue;
    db.transaction(() => {
      db.exec(m.sql);
      db.pragma(`user_version = ${m.version}`);
    })();
    applied.push(m.version);
  }
  return applied;
}

/** Opens (creating if needed) the database for writing and brings its schema up to date. */
export function openStore(file: string): Db {
  let db: Db;
  try {
    db = new Database(file);
  } catch (e) {
    throw new StoreError(`${file}: cannot open results database (${(e as Error).message})`);
  }
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL'); // durable at checkpoints; WAL keeps the file consistent on a crash
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    migrate(db, file);
  } catch (e) {
    db.close();
    if (e instanceof StoreError) throw e;
    throw new StoreError(`${file}: cannot use results database (${(e as Error).message})`);
  }
  return db;
}

/** Opens an existing database read-only (queries, tables, exports never write). */
export function openStoreReadonly(file: string): Db {
  if (!existsSync(file)) throw new StoreError(`${file}: no results database here (run a sweep first, or pass --db)`);
  let db: Db;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
    db.pragma('busy_timeout = 5000');
  } catch (e) {
    throw new StoreError(`${file}: cannot open results database (${(e as Error).message})`);
  }
  const version = userVersion(db);
  if (version !== SCHEMA_VERSION) {
    db.close();
    throw new StoreError(
      version > SCHEMA_VERSION
        ? `${file}: schema version ${version} was written by a newer aimc-sweep (this one knows up to ${SCHEMA_VERSION})`
        : version === 0
          ? `${file}: not an aimc-sweep results database`
          : `${file}: schema version ${version} is older than ${SCHEMA_VERSION}; any writing command (run, serve) upgrades it`,
    );
  }
  return db;
}
