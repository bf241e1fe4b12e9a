/**
 * Opening the results database: WAL mode (readers never block the single writer), migrations
 * applied step by step in transactions, and clear errors for files that are not ours, damaged,
 * read-only or from a newer aimc-sweep.
 *
 * What is refused is never touched: the file is judged from its header first (and, when a
 * journal may hold newer pages, by a read-only connection), before any connection that could
 * write it, switch it to WAL or leave -wal/-shm files beside it.
 */
import { accessSync, closeSync, constants, existsSync, openSync, readSync, statSync, unlinkSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { StoreError, StoreFailure, storeErrorFrom } from './errors.ts';
import { MIGRATIONS, READABLE_FROM_VERSION, SCHEMA_VERSION } from './migrations.ts';
import { DEFAULT_LOCK_STALE_MS, localOwnerAlive, lockHeld } from './host.ts';

export { StoreError } from './errors.ts';

export type Db = Database.Database;

function userVersion(db: Db): number {
  return db.pragma('user_version', { simple: true }) as number;
}

const newer = (file: string, version: number): string =>
  `${file}: schema version ${version} was written by a newer aimc-sweep (this one knows up to ` +
  `${SCHEMA_VERSION}); upgrade aimc-sweep`;
const notOurs = (file: string, why: string): string => `${file}: not an aimc-sweep results database (${why})`;
const older = (file: string, version: number): string =>
  `${file}: schema version ${version} is older than ${SCHEMA_VERSION}; any writing command (run, serve) upgrades it`;

/** Applies the migrations `db` lacks; returns the versions applied. */
export function migrate(db: Db, file: string): number[] {
  const current = checkSchema(db, file, 'write');
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

/** The schema version of an open database, refusing (StoreError) what `mode` cannot use; reads only. */
function checkSchema(db: Db, file: string, mode: 'read' | 'write'): number {
  const current = userVersion(db);
  if (current > SCHEMA_VERSION) throw new StoreError(newer(file, current));
  if (current === 0) {
    if (mode === 'read') throw new StoreError(notOurs(file, 'no schema version'));
    const tables = db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table'").get() as { n: number };
    if (tables.n > 0) throw new StoreError(notOurs(file, 'it has tables but no schema version'));
  } else if (current < 0) {
    throw new StoreError(notOurs(file, `schema version ${current}`));
  } else if (mode === 'read' && current < READABLE_FROM_VERSION) {
    throw new StoreError(older(file, current));
  }
  return current;
}

// ---- judging a file before opening it ---------------------------------------------------

const MAGIC = Buffer.from('SQLite format 3\0', 'latin1');

interface Header {
  pageSize: number;
  userVersion: number;
  /** pages the header says the database has (undefined when it does not say) */
  pages: number | undefined;
  /** whether the schema (page 1) holds any table, index, view or trigger */
  hasSchema: boolean;
}

interface FileState {
  size: number;
  header?: Header;
  /** a WAL or rollback journal that may hold pages newer than the header: only SQLite can judge */
  journal: boolean;
}

function sizeOf(path: string): number | undefined {
  try {
    return statSync(path).size;
  } catch {
    return undefined;
  }
}

/**
 * What the file at `file` is, from its first bytes: undefined when there is none; a StoreError
 * when it is not a whole SQLite database (random bytes, truncated) or cannot be read.
 */
function inspectFile(file: string): FileState | undefined {
  let st;
  try {
    st = statSync(file, { throwIfNoEntry: false });
  } catch (e) {
    throw new StoreError(`${file}: cannot read (${(e as Error).message})`);
  }
  if (!st) return undefined;
  if (st.isDirectory()) throw new StoreError(`${file}: is a directory, not a results database`);
  if (st.size === 0) return { size: 0, journal: false };
  const buf = Buffer.alloc(108);
  let n = 0;
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    n = readSync(fd, buf, 0, buf.length, 0);
  } catch (e) {
    throw new StoreError(`${file}: cannot read (${(e as Error).message})`);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
  if (n < 100 || !buf.subarray(0, 16).equals(MAGIC)) throw new StoreError(notOurs(file, 'not an SQLite database'));
  const raw = buf.readUInt16BE(16);
  const pageSize = raw === 1 ? 65536 : raw;
  if (pageSize < 512 || (pageSize & (pageSize - 1)) !== 0)
    throw new StoreError(`${file}: damaged SQLite database (page size ${raw} in its header)`);
  if (st.size < pageSize || st.size % pageSize !== 0) {
    throw new StoreError(
      `${file}: truncated or damaged database (${st.size} bytes is not a whole number of ${pageSize}-byte pages)`,
    );
  }
  // the page count in the header is valid when its change counter matches "version valid for"
  const pages =
    buf.readUInt32BE(24) === buf.readUInt32BE(92) && buf.readUInt32BE(28) > 0 ? buf.readUInt32BE(28) : undefined;
  // page 1 holds the schema table: a leaf with no cells is an empty schema, an interior page a big one
  const type = n >= 108 ? buf[100] : 0;
  const hasSchema = type === 0x05 || (type === 0x0d && buf.readUInt16BE(103) > 0) || (type !== 0x0d && type !== 0x05);
  const journal = (sizeOf(`${file}-wal`) ?? 0) > 0 || (sizeOf(`${file}-journal`) ?? 0) > 0;
  if (!journal && pages !== undefined && pages * pageSize > st.size) {
    throw new StoreError(`${file}: truncated database (${st.size / pageSize} of its ${pages} pages are there)`);
  }
  return { size: st.size, journal, header: { pageSize, userVersion: buf.readInt32BE(60), pages, hasSchema } };
}

/** Refuses from the header alone what `mode` cannot use (valid when no journal holds newer pages). */
function checkHeader(file: string, h: Header, mode: 'read' | 'write'): void {
  if (h.userVersion > SCHEMA_VERSION) throw new StoreError(newer(file, h.userVersion));
  if (h.userVersion < 0) throw new StoreError(notOurs(file, `schema version ${h.userVersion}`));
  if (h.userVersion === 0) {
    if (mode === 'read')
      throw new StoreError(
        notOurs(file, h.hasSchema ? 'it has tables but no schema version' : 'an empty SQLite database'),
      );
    if (h.hasSchema) throw new StoreError(notOurs(file, 'it has tables but no schema version'));
  } else if (mode === 'read' && h.userVersion < READABLE_FROM_VERSION) {
    throw new StoreError(older(file, h.userVersion));
  }
}

interface SideFiles {
  wal: boolean;
  shm: boolean;
}

function sideFiles(file: string): SideFiles {
  return { wal: existsSync(`${file}-wal`), shm: existsSync(`${file}-shm`) };
}

/**
 * Removes the -wal and -shm files a read-only connection created beside `file` (they were not
 * there before it opened): only an empty -wal, which no writer has used, and the -shm with it.
 */
function removeCreatedSideFiles(file: string, before: SideFiles): void {
  try {
    if (!before.wal && sizeOf(`${file}-wal`) === 0) unlinkSync(`${file}-wal`);
    if (!before.shm && !existsSync(`${file}-wal`) && existsSync(`${file}-shm`)) unlinkSync(`${file}-shm`);
  } catch {
    // not ours to remove after all (permissions): leave them
  }
}

function writable(path: string): boolean {
  try {
    accessSync(path, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** Judges a database whose journal holds pages newer than its header through a read-only connection. */
function checkThroughReadonlyConnection(file: string, mode: 'read' | 'write'): void {
  const before = sideFiles(file);
  let db: Db | undefined;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
    db.pragma('busy_timeout = 5000');
    checkSchema(db, file, mode);
  } catch (e) {
    db?.close();
    db = undefined;
    removeCreatedSideFiles(file, before);
    throw storeErrorFrom(e, file, false);
  } finally {
    db?.close();
  }
}

/**
 * A database whose schema this process is about to migrate must not be in use by a live
 * coordinator (an older aimc-sweep, say): checked before the first migration writes.
 */
function refuseMigratingUnderAnOwner(db: Db, file: string, current: number): void {
  if (current < 2 || current >= SCHEMA_VERSION) return;
  const row = db.prepare('SELECT owner, refreshed_at FROM writer_lock WHERE id = 1').get() as
    { owner: string; refreshed_at: number } | undefined;
  if (!row) return;
  const held = lockHeld(row, Date.now(), DEFAULT_LOCK_STALE_MS, localOwnerAlive);
  if (held)
    throw new StoreError(
      `${file}: in use by another coordinator (${held}); stop it before this aimc-sweep upgrades the schema ` +
        `(version ${current} to ${SCHEMA_VERSION})`,
    );
}

/**
 * Opens (creating if needed) the database for writing and brings its schema up to date. A file
 * it refuses (not SQLite, truncated, foreign, newer, read-only) is left exactly as it was.
 */
export function openStore(file: string): Db {
  const onDisk = file !== ':memory:' && file !== '';
  const state = onDisk ? inspectFile(file) : undefined;
  if (state?.header) {
    if (state.journal) checkThroughReadonlyConnection(file, 'write');
    else checkHeader(file, state.header, 'write');
  }
  if (onDisk) {
    const dir = dirname(file);
    if (state && !writable(file))
      throw new StoreError(
        `${file}: cannot write: the file is read-only for this user; a command that writes needs write access to it`,
      );
    if (!existsSync(dir)) throw new StoreError(`${file}: cannot create: directory ${dir} does not exist`);
    if (!writable(dir))
      throw new StoreError(
        `${file}: cannot write: its directory ${dir} is not writable (SQLite creates the -wal and -shm files there)`,
      );
  }
  let db: Db;
  try {
    db = new Database(file);
  } catch (e) {
    throw new StoreError(`${file}: cannot open results database (${(e as Error).message})`);
  }
  try {
    db.pragma('busy_timeout = 5000');
    // judged before anything writes: a refused file keeps its journal mode and its bytes
    const current = checkSchema(db, file, 'write');
    if (db.readonly)
      throw new StoreError(
        `${file}: cannot write: the file is read-only for this user; a command that writes needs write access to it`,
      );
    refuseMigratingUnderAnOwner(db, file, current);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL'); // durable at checkpoints; WAL keeps the file consistent on a crash
    db.pragma('foreign_keys = ON');
    migrate(db, file);
  } catch (e) {
    db.close();
    const err = storeErrorFrom(e, file);
    if (err instanceof StoreError || err instanceof StoreFailure) throw err;
    throw new StoreError(`${file}: cannot use results database (${err.message})`);
  }
  return db;
}

/** The side files each read-only connection found when it opened (to remove those it created). */
const readonlyOpened = new WeakMap<Db, SideFiles>();

/**
 * Opens an existing database read-only (queries, tables, exports never write). A file it
 * refuses or cannot read is a StoreError, and nothing is left beside it.
 */
export function openStoreReadonly(file: string): Db {
  const state = inspectFile(file);
  if (!state) throw new StoreError(`${file}: no results database here (run a sweep first, or pass --db)`);
  if (!state.header) throw new StoreError(notOurs(file, 'an empty file'));
  if (!state.journal) checkHeader(file, state.header, 'read');
  const before = sideFiles(file);
  let db: Db | undefined;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
    db.pragma('busy_timeout = 5000');
    checkSchema(db, file, 'read');
  } catch (e) {
    db?.close();
    removeCreatedSideFiles(file, before);
    throw storeErrorFrom(e, file, false);
  }
  readonlyOpened.set(db, before);
  return db;
}

/**
 * Closes a connection of openStoreReadonly. The -wal/-shm files it created are removed when
 * the database turned out damaged (`damaged`) or when this user cannot write the file (no
 * writer of ours can be using them); a writable database keeps them, as SQLite does.
 */
export function closeReadonlyStore(db: Db, damaged = false): void {
  const before = readonlyOpened.get(db);
  db.close();
  if (before && (damaged || !writable(db.name))) removeCreatedSideFiles(db.name, before);
}
