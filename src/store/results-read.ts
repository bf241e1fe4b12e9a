/**
 * Every read the reporting side makes (table, query, export, status): the one place for its
 * SQL. Writes live in run-queue.ts. The functions take any connection, read-only or not, so the
 * embedded `run` command can render its table from the connection it writes with.
 */
import { isAccuracyMetric, METRICS, type Metric } from '../core/tasks/run-result.ts';
import type { Db } from './open.ts';
import { StoreError } from './open.ts';
import { InputError } from '../errors.ts';
import type { RunStatus } from './queue.ts';

/** The per-run metrics the results and epoch_metrics tables hold (one column each). */
export { METRICS, type Metric };
/** One value per metric (null when not recorded). */
export type MetricValues = { [K in Metric]: number | null };

export interface SweepRow {
  id: number;
  name: string;
  description: string;
  source: string;
  created_at: number;
  updated_at: number;
}

export function listSweeps(db: Db): SweepRow[] {
  return db
    .prepare('SELECT id, name, description, source, created_at, updated_at FROM sweeps ORDER BY id')
    .all() as SweepRow[];
}

export function findSweep(db: Db, name: string): SweepRow | undefined {
  return db
    .prepare('SELECT id, name, description, source, created_at, updated_at FROM sweeps WHERE name = ?')
    .get(name) as SweepRow | undefined;
}

/** The run hashes of a sweep. */
export function sweepRunHashes(db: Db, sweepId: number): string[] {
  return (db.prepare('SELECT run_hash FROM sweep_runs WHERE sweep_id = ?').all(sweepId) as { run_hash: string }[]).map(
    (r) => r.run_hash,
  );
}

/** The sweep called `name`; a StoreError naming the sweeps the database does hold otherwise. */
export function requireSweep(db: Db, name: string): SweepRow {
  const row = findSweep(db, name);
  if (row) return row;
  const names = listSweeps(db).map((s) => s.name);
  throw new StoreError(
    `${db.name}: no sweep named ${JSON.stringify(name)} ` +
      `(${names.length ? `sweeps: ${names.join(', ')}` : 'the database holds no sweep yet'})`,
  );
}

export interface ProvenanceRow {
  package_version: string;
  numerics_version: number;
  git_commit: string;
  node_version: string;
  host: string;
  platform: string;
}

/** The accepted result of a done run (final epoch's metrics; wall_ms: the whole run's). */
export interface ResultRow extends MetricValues {
  attempt: number;
  /** the final epoch's number */
  epochs: number;
  weights_digest: string;
  pulses: Record<string, number>;
  worker: string | null;
  finished_at: number;
  /** the provenance of the process that computed it (null when it was not recorded) */
  provenance: ProvenanceRow | null;
}

/** One run of a sweep, as the sweep and the run queue know it. */
export interface SweepRunRow {
  hash: string;
  /** order in the sweep's expansion */
  position: number;
  /** the swept values that made the run (dotted key -> value) */
  assignments: Record<string, unknown>;
  /** the canonical, fully defaulted RunConfig */
  config: Record<string, unknown>;
  numerics_version: number;
  status: RunStatus;
  attempt: number;
  error: string | null;
  worker: string | null;
  started_at: number | null;
  finished_at: number | null;
  /** null unless the run is done */
  result: ResultRow | null;
}

interface RawSweepRun extends MetricValues {
  hash: string;
  position: number;
  assignments_json: string;
  config_json: string;
  numerics_version: number;
  status: RunStatus;
  attempt: number;
  error: string | null;
  worker: string | null;
  started_at: number | null;
  finished_at: number | null;
  r_attempt: number | null;
  r_epochs: number | null;
  weights_digest: string | null;
  pulses_json: string | null;
  r_worker: string | null;
  r_finished_at: number | null;
  p_package_version: string | null;
  p_numerics_version: number | null;
  p_git_commit: string | null;
  p_node_version: string | null;
  p_host: string | null;
  p_platform: string | null;
}

type MetricTable = 'results' | 'epoch_metrics';

/** The columns of each metric table, per connection (read once). */
const tableColumns = new WeakMap<Db, Map<MetricTable, Set<string>>>();

function columnsOf(db: Db, table: MetricTable): Set<string> {
  let tables = tableColumns.get(db);
  if (!tables) tableColumns.set(db, (tables = new Map()));
  let cols = tables.get(table);
  if (!cols) {
    cols = new Set(
      (db.prepare(`SELECT name FROM pragma_table_info('${table}')`).all() as { name: string }[]).map((r) => r.name),
    );
    tables.set(table, cols);
  }
  return cols;
}

/**
 * `alias.metric`, or NULL where the table has no such column: a database the read commands
 * read as it is (READABLE_FROM_VERSION) may predate a metric (5: the cost estimates).
 */
function metricExpr(db: Db, table: MetricTable, alias: string, metric: Metric): string {
  return columnsOf(db, table).has(metric) ? `${alias}.${metric}` : 'NULL';
}

/** Every metric of `table` as a result column named after it. */
function metricColumns(db: Db, table: MetricTable, alias: string): string {
  return METRICS.map((c) => `${metricExpr(db, table, alias, c)} AS ${c}`).join(', ');
}

function metricValues(row: MetricValues): MetricValues {
  return Object.fromEntries(METRICS.map((c) => [c, row[c]])) as MetricValues;
}

/** The runs of a sweep in expansion order, with the result of those done. */
export function sweepRuns(db: Db, sweepId: number): SweepRunRow[] {
  const raw = db
    .prepare(
      `SELECT r.hash, s.position, s.assignments_json, r.config_json, r.numerics_version, r.status, r.attempt,
         r.error, r.worker,
         r.started_at, r.finished_at,
         res.attempt AS r_attempt, res.epochs AS r_epochs, ${metricColumns(db, 'results', 'res')},
         res.weights_digest, res.pulses_json, res.worker AS r_worker, res.finished_at AS r_finished_at,
         p.package_version AS p_package_version, p.numerics_version AS p_numerics_version, p.git_commit AS p_git_commit,
         p.node_version AS p_node_version, p.host AS p_host, p.platform AS p_platform
       FROM sweep_runs s
       JOIN runs r ON r.hash = s.run_hash
       LEFT JOIN results res ON res.run_hash = r.hash AND r.status = 'done'
       LEFT JOIN provenance p ON p.id = res.provenance_id
       WHERE s.sweep_id = ?
       ORDER BY s.position`,
    )
    .all(sweepId) as RawSweepRun[];
  return raw.map((x) => ({
    hash: x.hash,
    position: x.position,
    assignments: JSON.parse(x.assignments_json) as Record<string, unknown>,
    config: JSON.parse(x.config_json) as Record<string, unknown>,
    numerics_version: x.numerics_version,
    status: x.status,
    attempt: x.attempt,
    error: x.error,
    worker: x.worker,
    started_at: x.started_at,
    finished_at: x.finished_at,
    result:
      x.r_attempt === null
        ? null
        : {
            attempt: x.r_attempt,
            epochs: x.r_epochs as number,
            ...metricValues(x),
            weights_digest: x.weights_digest as string,
            pulses: JSON.parse(x.pulses_json ?? '{}') as Record<string, number>,
            worker: x.r_worker,
            finished_at: x.r_finished_at as number,
            provenance:
              x.p_package_version === null
                ? null
                : {
                    package_version: x.p_package_version,
                    numerics_version: x.p_numerics_version as number,
                    git_commit: x.p_git_commit as string,
                    node_version: x.p_node_version as string,
                    host: x.p_host as string,
                    platform: x.p_platform as string,
                  },
          },
  }));
}

/** Fraction of a run's epochs the `tail` statistic averages over (the last 20 %, as residual-notes.md). */
export const TAIL_FRACTION = 0.2;

/*
 * The two statistics of a metric over each run's epochs: the one home of their rules, which
 * `table --epoch best|tail`, `plot --epoch best|tail` and `report` all read from here
 * (src/report/epoch-values.ts).
 */

/** The name goes into the SQL text: only the known per-epoch columns. */
function checkEpochMetric(what: string, metric: Metric): void {
  if (!(METRICS as readonly string[]).includes(metric) || metric === 'wall_ms') {
    throw new Error(`${what}: not an epoch metric: ${metric}`);
  }
}

/**
 * Per done run of a sweep: the mean of `metric` over its last TAIL_FRACTION of epochs (epochs
 * e > (1 - fraction) * E of E; at least the final one), for noisy per-epoch metrics such as the
 * scalar toy's error, where the final epoch alone is one sample.
 */
export function tailEpochValues(db: Db, sweepId: number, metric: Exclude<Metric, 'wall_ms'>): Map<string, number> {
  checkEpochMetric('tailEpochValues', metric);
  const rows = db
    .prepare(
      `SELECT e.run_hash AS hash, avg(${metricExpr(db, 'epoch_metrics', 'e', metric)}) AS value
       FROM epoch_metrics e
       JOIN results res ON res.run_hash = e.run_hash AND res.attempt = e.attempt
       JOIN runs r ON r.hash = e.run_hash AND r.status = 'done'
       JOIN sweep_runs s ON s.run_hash = e.run_hash AND s.sweep_id = ?
       WHERE e.epoch = res.epochs OR e.epoch > res.epochs * (1 - ?)
       GROUP BY e.run_hash`,
    )
    .all(sweepId, TAIL_FRACTION) as { hash: string; value: number | null }[];
  const out = new Map<string, number>();
  for (const r of rows) if (r.value !== null) out.set(r.hash, r.value);
  return out;
}

/**
 * Per done run of the sweep, the best value of `metric` over the epochs of its accepted attempt:
 * the maximum for accuracies, the minimum for every other metric (losses, errors, the cost
 * estimates; isAccuracyMetric). Epoch 0 (the untrained model) counts only for a run that has no
 * other epoch.
 */
export function bestEpochValues(db: Db, sweepId: number, metric: Exclude<Metric, 'wall_ms'>): Map<string, number> {
  checkEpochMetric('bestEpochValues', metric);
  const agg = isAccuracyMetric(metric) ? 'max' : 'min';
  const value = metricExpr(db, 'epoch_metrics', 'e', metric);
  const rows = db
    .prepare(
      `SELECT e.run_hash AS hash, coalesce(${agg}(CASE WHEN e.epoch > 0 THEN ${value} END), ${agg}(${value})) AS value
       FROM epoch_metrics e
       JOIN results res ON res.run_hash = e.run_hash AND res.attempt = e.attempt
       JOIN runs r ON r.hash = e.run_hash AND r.status = 'done'
       JOIN sweep_runs s ON s.run_hash = e.run_hash AND s.sweep_id = ?
       GROUP BY e.run_hash`,
    )
    .all(sweepId) as { hash: string; value: number | null }[];
  const out = new Map<string, number>();
  for (const r of rows) if (r.value !== null) out.set(r.hash, r.value);
  return out;
}

/** A sweep's run counts by status and its recent completions (for throughput). */
export interface SweepProgressRow {
  id: number;
  name: string;
  total: number;
  queued: number;
  running: number;
  done: number;
  failed: number;
  /** runs done or failed with finished_at >= `since` */
  recent: number;
  /** the earliest started_at of those recent runs (null when none) */
  recent_first_start: number | null;
}

export function sweepProgress(db: Db, since: number): SweepProgressRow[] {
  return db
    .prepare(
      `SELECT sw.id, sw.name, count(r.hash) AS total,
         coalesce(sum(r.status = 'queued'), 0) AS queued,
         coalesce(sum(r.status = 'running'), 0) AS running,
         coalesce(sum(r.status = 'done'), 0) AS done,
         coalesce(sum(r.status = 'failed'), 0) AS failed,
         coalesce(sum(r.status IN ('done', 'failed') AND r.finished_at >= @since), 0) AS recent,
         min(CASE WHEN r.status IN ('done', 'failed') AND r.finished_at >= @since
                  THEN coalesce(r.started_at, r.finished_at) END) AS recent_first_start
       FROM sweeps sw
       LEFT JOIN sweep_runs s ON s.sweep_id = sw.id
       LEFT JOIN runs r ON r.hash = s.run_hash
       GROUP BY sw.id
       ORDER BY sw.id`,
    )
    .all({ since }) as SweepProgressRow[];
}

export interface WorkerRow {
  id: string;
  name: string;
  host: string;
  slots: number;
  free_slots: number;
  connected: boolean;
  registered_at: number;
  last_heartbeat_at: number;
}

export function listWorkers(db: Db): WorkerRow[] {
  const rows = db
    .prepare(
      'SELECT id, name, host, slots, free_slots, connected, registered_at, last_heartbeat_at FROM workers ' +
        'ORDER BY connected DESC, name, id',
    )
    .all() as (Omit<WorkerRow, 'connected'> & { connected: number })[];
  return rows.map((w) => ({ ...w, connected: w.connected !== 0 }));
}

/** A statement `query` will not run (writes, several statements, bad SQL); exit code 2. */
export class QueryError extends InputError {
  /** `cause`: the SQLite error behind it, if any (a damaged database, not a bad statement) */
  constructor(message: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'QueryError';
  }
}

export interface QueryResult {
  columns: string[];
  /** one array per row, in column order */
  rows: unknown[][];
}

/**
 * Runs one read-only statement that returns rows. Statements that would write (INSERT,
 * UPDATE, DELETE, DROP, CREATE, PRAGMA x = y, VACUUM, ...) and those that return no rows
 * (ATTACH, DETACH, BEGIN, ...) are refused before running; the connection should be
 * read-only as well (openStoreReadonly), so nothing can write even past this check.
 */
export function readonlyQuery(db: Db, sql: string): QueryResult {
  let stmt: ReturnType<Db['prepare']>;
  try {
    stmt = db.prepare(sql);
  } catch (e) {
    const msg = (e as Error).message;
    if (e instanceof RangeError && /more than one statement/.test(msg))
      throw new QueryError('query: give one statement (the SQL holds several)');
    if (e instanceof RangeError && /no statements/.test(msg)) throw new QueryError('query: the SQL holds no statement');
    throw new QueryError(`query: ${msg}`, e);
  }
  const head = sql.trim().split(/\s+/, 1)[0]?.toUpperCase() ?? '';
  if (!stmt.readonly)
    throw new QueryError(
      `query: refused: ${head} writes to the database; query runs read-only statements (SELECT, WITH ... ` +
        `SELECT, read-only PRAGMA)`,
    );
  if (!stmt.reader)
    throw new QueryError(
      `query: refused: ${head} returns no rows; query runs statements that read (SELECT, WITH ... SELECT, ` +
        `read-only PRAGMA)`,
    );
  const columns = stmt.columns().map((c) => c.name);
  let rows: unknown[][];
  try {
    rows = stmt.raw(true).all() as unknown[][];
  } catch (e) {
    throw new QueryError(`query: ${(e as Error).message}`, e);
  }
  return { columns, rows };
}

/** What the plots and the report need of a sweep beyond SweepRow: its definition and who recorded it. */
export interface SweepDetails {
  /** the definition as parsed (canonical JSON) */
  spec_json: string;
  /** the provenance of the process that recorded the sweep (null when it was not recorded) */
  provenance: ProvenanceRow | null;
}

export function sweepDetails(db: Db, sweepId: number): SweepDetails {
  const row = db
    .prepare(
      `SELECT sw.spec_json, p.package_version, p.numerics_version, p.git_commit, p.node_version, p.host, p.platform
       FROM sweeps sw LEFT JOIN provenance p ON p.id = sw.provenance_id WHERE sw.id = ?`,
    )
    .get(sweepId) as ({ spec_json: string } & { [K in keyof ProvenanceRow]: ProvenanceRow[K] | null }) | undefined;
  if (!row) throw new StoreError(`${db.name}: no sweep with id ${sweepId}`);
  const { spec_json, ...p } = row;
  return {
    spec_json,
    provenance: p.package_version === null ? null : (p as ProvenanceRow),
  };
}

/** One epoch of a run's accepted attempt (the metrics of epoch_metrics; null when not recorded). */
export interface EpochRow extends MetricValues {
  epoch: number;
}

/**
 * The per-epoch metrics of a sweep's done runs, from the attempt whose result was accepted:
 * run hash -> epochs in ascending order (epoch 0, the untrained model, included when recorded).
 */
export function sweepEpochMetrics(db: Db, sweepId: number): Map<string, EpochRow[]> {
  const rows = db
    .prepare(
      `SELECT e.run_hash AS hash, e.epoch, ${metricColumns(db, 'epoch_metrics', 'e')}
       FROM epoch_metrics e
       JOIN results res ON res.run_hash = e.run_hash AND res.attempt = e.attempt
       JOIN runs r ON r.hash = e.run_hash AND r.status = 'done'
       JOIN sweep_runs s ON s.run_hash = e.run_hash AND s.sweep_id = ?
       ORDER BY s.position, e.epoch`,
    )
    .all(sweepId) as (EpochRow & { hash: string })[];
  const out = new Map<string, EpochRow[]>();
  for (const { hash, ...e } of rows) {
    const list = out.get(hash);
    if (list) list.push(e);
    else out.set(hash, [e]);
  }
  return out;
}
