/**
 * The results database schema as an ordered list of migrations; `PRAGMA user_version` holds
 * how many have been applied. Never edit a released migration: append a new one (databases in
 * the field are upgraded step by step, each step in its own transaction).
 *
 * Times are integer milliseconds since the Unix epoch. A run's identity is its hash; `attempt`
 * counts leases, so a result is accepted only for the attempt currently leased.
 */
export interface Migration {
  version: number;
  description: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'sweeps, runs, results, per-epoch metrics, provenance',
    sql: `
      CREATE TABLE provenance (
        id INTEGER PRIMARY KEY,
        package_version TEXT NOT NULL,
        numerics_version INTEGER NOT NULL,
        git_commit TEXT NOT NULL,        -- '' when unknown
        node_version TEXT NOT NULL,
        host TEXT NOT NULL,
        platform TEXT NOT NULL,
        UNIQUE (package_version, numerics_version, git_commit, node_version, host, platform)
      );
      CREATE TABLE sweeps (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        description TEXT NOT NULL DEFAULT '',
        spec_json TEXT NOT NULL,         -- the definition as parsed (canonical JSON)
        source TEXT NOT NULL DEFAULT '', -- file it was read from
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        provenance_id INTEGER REFERENCES provenance (id)
      );
      CREATE TABLE runs (
        hash TEXT PRIMARY KEY,
        config_json TEXT NOT NULL,       -- canonical, fully defaulted RunConfig
        numerics_version INTEGER NOT NULL,
        status TEXT NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'done', 'failed')),
        attempt INTEGER NOT NULL DEFAULT 0,
        worker TEXT,
        created_at INTEGER NOT NULL,
        started_at INTEGER,
        finished_at INTEGER,
        error TEXT
      );
      CREATE INDEX runs_by_status ON runs (status);
      CREATE TABLE sweep_runs (
        sweep_id INTEGER NOT NULL REFERENCES sweeps (id) ON DELETE CASCADE,
        run_hash TEXT NOT NULL REFERENCES runs (hash),
        position INTEGER NOT NULL,       -- order of the run in the sweep's expansion
        assignments_json TEXT NOT NULL,  -- the swept values that made the run
        PRIMARY KEY (sweep_id, run_hash)
      );
      CREATE INDEX sweep_runs_by_run ON sweep_runs (run_hash);
      CREATE TABLE results (
        run_hash TEXT PRIMARY KEY REFERENCES runs (hash),
        attempt INTEGER NOT NULL,
        epochs INTEGER NOT NULL,
        train_loss REAL,
        weight_error REAL,
        train_accuracy REAL,
        test_loss REAL,
        test_accuracy REAL,
        pulses_json TEXT NOT NULL,
        weights_digest TEXT NOT NULL,
        wall_ms REAL,
        worker TEXT,
        provenance_id INTEGER REFERENCES provenance (id),
        finished_at INTEGER NOT NULL
      );
      CREATE TABLE epoch_metrics (
        run_hash TEXT NOT NULL REFERENCES runs (hash),
        attempt INTEGER NOT NULL,
        epoch INTEGER NOT NULL,
        train_loss REAL,
        weight_error REAL,
        train_accuracy REAL,
        test_loss REAL,
        test_accuracy REAL,
        wall_ms REAL,
        pulses_json TEXT NOT NULL,
        PRIMARY KEY (run_hash, attempt, epoch)
      );
    `,
  },
  {
    version: 2,
    description: 'leases (expiry, lost-lease count), workers, the single-writer lock',
    sql: `
      ALTER TABLE runs ADD COLUMN lease_expires_at INTEGER;
      ALTER TABLE runs ADD COLUMN lost_leases INTEGER NOT NULL DEFAULT 0;
      CREATE INDEX runs_by_lease ON runs (status, lease_expires_at);
      CREATE TABLE workers (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        host TEXT NOT NULL,
        slots INTEGER NOT NULL,
        free_slots INTEGER NOT NULL DEFAULT 0,
        connected INTEGER NOT NULL DEFAULT 0,
        registered_at INTEGER NOT NULL,
        last_heartbeat_at INTEGER NOT NULL,
        provenance_id INTEGER REFERENCES provenance (id)  -- versions the worker announced
      );
      -- one row while a coordinator (embedded or served) owns the database
      CREATE TABLE writer_lock (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        owner TEXT NOT NULL,             -- host:pid
        acquired_at INTEGER NOT NULL,
        refreshed_at INTEGER NOT NULL
      );
    `,
  },
  {
    version: 3,
    description: 'least-squares step means: step_loss, step_weight_error',
    sql: `
      ALTER TABLE results ADD COLUMN step_loss REAL;
      ALTER TABLE results ADD COLUMN step_weight_error REAL;
      ALTER TABLE epoch_metrics ADD COLUMN step_loss REAL;
      ALTER TABLE epoch_metrics ADD COLUMN step_weight_error REAL;
    `,
  },
  {
    version: 4,
    description: "the writer lock's fencing token and its owner's process start time",
    sql: `
      -- a fresh random token per acquisition: every write of the holder checks it is still there
      ALTER TABLE writer_lock ADD COLUMN token TEXT NOT NULL DEFAULT '';
      -- start time of the owner's process on its host ('' unknown): a reused pid is not the owner
      ALTER TABLE writer_lock ADD COLUMN owner_started TEXT NOT NULL DEFAULT '';
    `,
  },
  {
    version: 5,
    description: 'hardware cost estimates: update_ns, energy_nj, storage_bytes (docs/cost.md)',
    sql: `
      ALTER TABLE results ADD COLUMN update_ns REAL;
      ALTER TABLE results ADD COLUMN energy_nj REAL;
      ALTER TABLE results ADD COLUMN storage_bytes REAL;
      ALTER TABLE epoch_metrics ADD COLUMN update_ns REAL;
      ALTER TABLE epoch_metrics ADD COLUMN energy_nj REAL;
      ALTER TABLE epoch_metrics ADD COLUMN storage_bytes REAL;
    `,
  },
];

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1].version;

/**
 * The oldest schema the read commands (status, table, query, export, plot, report) read as it
 * is: what came after it changed only what they never read (4: the writer lock's columns) or
 * added metric columns they read as NULL where absent (5: the cost estimates; results-read.ts).
 */
export const READABLE_FROM_VERSION = 3;
