/**
 * The flat form of a sweep's results, one row per run: the run's state, its swept values
 * (`swept.<key>`), every field of its canonical config flattened (`config.<dotted key>`, the
 * union over the runs, sorted), its final metrics and the provenance of the process that
 * computed it. CSV and JSON Lines share the columns.
 */
import type { Db } from '../store/open.ts';
import { METRICS, requireSweep, type SweepRunRow, sweepRuns } from '../store/results-read.ts';
import { canonicalJson } from '../sweep/canonical.ts';
import { toCsv } from './format.ts';
import { flattenConfig } from './key-values.ts';

export const EXPORT_FORMATS = ['csv', 'jsonl'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

const RUN_COLUMNS = ['hash', 'position', 'status', 'attempt', 'error', 'worker', 'started_at', 'finished_at'] as const;
const RESULT_COLUMNS = ['epochs', ...METRICS, 'weights_digest', 'pulses'] as const;
const PROVENANCE_COLUMNS = [
  'numerics_version',
  'package_version',
  'git_commit',
  'node_version',
  'host',
  'platform',
] as const;

export interface ExportTable {
  columns: string[];
  /** one object per run, every column present (null when the run has no value) */
  rows: Record<string, unknown>[];
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

/** The export rows of runs (in expansion order); pure. */
export function exportRows(runs: readonly SweepRunRow[]): ExportTable {
  const swept: string[] = [];
  const configKeys = new Set<string>();
  const flat = runs.map((r) => {
    for (const k of Object.keys(r.assignments)) if (!swept.includes(k)) swept.push(k);
    const f = flattenConfig(r.config);
    for (const k of f.keys()) configKeys.add(k);
    return f;
  });
  const config = [...configKeys].sort();
  const columns = [
    ...RUN_COLUMNS,
    ...swept.map((k) => `swept.${k}`),
    ...config.map((k) => `config.${k}`),
    ...RESULT_COLUMNS,
    ...PROVENANCE_COLUMNS,
  ];
  const rows = runs.map((r, i) => {
    const res = r.result;
    const p = res?.provenance ?? null;
    const row: Record<string, unknown> = {
      hash: r.hash,
      position: r.position,
      status: r.status,
      attempt: r.attempt,
      error: r.error,
      worker: res?.worker ?? r.worker,
      started_at: iso(r.started_at),
      finished_at: iso(res?.finished_at ?? r.finished_at),
    };
    for (const k of swept) row[`swept.${k}`] = Object.hasOwn(r.assignments, k) ? r.assignments[k] : null;
    for (const k of config) row[`config.${k}`] = flat[i].has(k) ? flat[i].get(k) : null;
    row.epochs = res?.epochs ?? null;
    for (const m of METRICS) row[m] = res?.[m] ?? null;
    row.weights_digest = res?.weights_digest ?? null;
    row.pulses = res ? res.pulses : null;
    row.numerics_version = r.numerics_version;
    row.package_version = p?.package_version ?? null;
    row.git_commit = p?.git_commit ?? null;
    row.node_version = p?.node_version ?? null;
    row.host = p?.host ?? null;
    row.platform = p?.platform ?? null;
    return row;
  });
  return { columns, rows };
}

/** A CSV field of a value: lists and objects as canonical JSON. */
function csvValue(v: unknown): unknown {
  return typeof v === 'object' && v !== null ? canonicalJson(v) : v;
}

export function formatExport(table: ExportTable, format: ExportFormat): string {
  if (format === 'csv')
    return toCsv(
      table.columns,
      table.rows.map((r) => table.columns.map((c) => csvValue(r[c]))),
    );
  const line = (r: Record<string, unknown>) => JSON.stringify(Object.fromEntries(table.columns.map((c) => [c, r[c]])));
  return table.rows.map((r) => line(r) + '\n').join('');
}

/** The export of sweep `sweep`; StoreError for an unknown sweep. */
export function exportSweep(db: Db, sweep: string, format: ExportFormat): string {
  const s = requireSweep(db, sweep);
  return formatExport(exportRows(sweepRuns(db, s.id)), format);
}
