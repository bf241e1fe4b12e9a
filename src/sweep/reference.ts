/**
 * The papers' numbers of a sweep: its `reference:` section (grammar: docs/sweeps.md). Each
 * reference cell is a paper's mean (and std) of one metric for the runs its `where` selects, in
 * the unit tables print (percent for accuracies). This module parses the section (from YAML or
 * from the definition stored in the database), matches cells to runs, finds the references that
 * match no run or contradict each other, and picks the reference of a table cell. It knows
 * nothing of files or lines: callers say how a problem at a path becomes an error.
 */
import { resolvedValueAt } from '../core/config/resolved-value.ts';
import { RUN_SCHEMA } from '../core/config/run-config.ts';
import { fieldAt } from '../core/config/schema.ts';
import { isAccuracyMetric, METRICS, type Metric } from '../core/tasks/run-result.ts';
import { canonicalJson } from './canonical.ts';

export interface ReferenceCell {
  /** dotted run config key -> value; a run matches when every key's resolved value is present and equal */
  where: Record<string, unknown>;
  metric: Metric;
  /** the paper's value, in the unit tables print (percent for accuracies) */
  mean: number;
  /** null: not given by the paper (absent or 0) */
  std: number | null;
  /** where the number comes from: paper, table, row */
  source: string;
}

/** Throws the error for a problem at a path (`reference[2].metric`) of the section. */
export type Fail = (path: string, message: string) => never;

const CELL_KEYS = ['where', 'metric', 'mean', 'std', 'source'] as const;

/** Most cells a sweep's reference section may have (a paper's table has tens; checks are pairwise). */
export const MAX_REFERENCE_CELLS = 1000;

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A value a `where` key can hold: a finite number, text, boolean, null, or a list of those. */
function whereValueOk(v: unknown): boolean {
  if (Array.isArray(v)) return v.every((x) => !Array.isArray(x) && whereValueOk(x));
  if (typeof v === 'number') return Number.isFinite(v);
  return v === null || typeof v === 'string' || typeof v === 'boolean';
}

/** A value as an error message shows it (NaN and Infinity as themselves, not JSON's null). */
function show(v: unknown): string {
  return typeof v === 'number' ? String(v) : (JSON.stringify(v) ?? String(v));
}

/** `algorithm=residual, n_tiles=3` */
export function describeWhere(where: Record<string, unknown>): string {
  return Object.entries(where)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : canonicalJson(v)}`)
    .join(', ');
}

function parseCell(item: unknown, path: string, fail: Fail): ReferenceCell {
  if (!isPlainObject(item)) fail(path, 'expected a mapping with where, metric, mean, std (optional) and source');
  for (const k of Object.keys(item)) {
    if (!(CELL_KEYS as readonly string[]).includes(k))
      fail(`${path}.${k}`, `unknown reference field (allowed: ${CELL_KEYS.join(', ')})`);
  }
  const where = item.where;
  if (where === undefined)
    fail(`${path}.where`, 'missing: the swept keys (dotted run config keys) and values that identify the cell');
  if (!isPlainObject(where) || Object.keys(where).length === 0)
    fail(`${path}.where`, 'expected a non-empty mapping of dotted run config keys to values');
  for (const [k, v] of Object.entries(where)) {
    const f = fieldAt(RUN_SCHEMA, k);
    if (f === undefined) fail(`${path}.where.${k}`, 'unknown run config field');
    if (f.kind === 'group')
      fail(`${path}.where.${k}`, `is a group of fields; name the fields as dotted keys (${k}.<field>)`);
    if (!whereValueOk(v))
      fail(
        `${path}.where.${k}`,
        `expected a value (a finite number, text, boolean, or a list of numbers), got ${show(v)}`,
      );
  }
  const metric = item.metric;
  if (metric === undefined) fail(`${path}.metric`, `missing: one of ${METRICS.join(', ')}`);
  if (typeof metric !== 'string' || !(METRICS as readonly string[]).includes(metric)) {
    fail(`${path}.metric`, `expected one of ${METRICS.join(', ')}, got ${show(metric)}`);
  }
  const m = metric as Metric;
  const unit = isAccuracyMetric(m) ? ' in percent' : '';
  const mean = item.mean;
  if (mean === undefined) fail(`${path}.mean`, `missing: the paper's value of ${m}${unit}`);
  if (typeof mean !== 'number' || !Number.isFinite(mean))
    fail(`${path}.mean`, `expected a finite number (${m}${unit}), got ${show(mean)}`);
  if (isAccuracyMetric(m) && (mean < 0 || mean > 100))
    fail(
      `${path}.mean`,
      `expected a percentage in [0, 100] (accuracies are given in percent, as tables print them), got ${mean}`,
    );
  const std = item.std ?? null;
  if (std !== null && (typeof std !== 'number' || !Number.isFinite(std) || std < 0)) {
    fail(`${path}.std`, `expected a finite number >= 0 (${m}${unit}; 0 or absent: not given), got ${show(std)}`);
  }
  const source = item.source;
  if (source === undefined) fail(`${path}.source`, 'missing: where the number comes from (paper, table, row)');
  if (typeof source !== 'string' || source.trim() === '')
    fail(`${path}.source`, 'expected text naming the paper, table and row');
  return { where: { ...where }, metric: m, mean, std: std === 0 ? null : std, source };
}

/** The `reference:` section (absent or null: none); `fail` throws at the first problem. */
export function parseReferences(raw: unknown, fail: Fail): ReferenceCell[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) fail('reference', 'expected a list of cells, each { where, metric, mean, std, source }');
  if (raw.length > MAX_REFERENCE_CELLS)
    fail('reference', `${raw.length} cells, more than the ${MAX_REFERENCE_CELLS} a sweep may carry`);
  return raw.map((item, i) => parseCell(item, `reference[${i}]`, fail));
}

/** The section as the stored definition holds it (std left out when not given). */
export function referencesForStorage(refs: readonly ReferenceCell[]): unknown[] {
  return refs.map((r) => ({
    where: r.where,
    metric: r.metric,
    mean: r.mean,
    std: r.std ?? undefined,
    source: r.source,
  }));
}

/**
 * The references of a definition as stored in the database (`sweeps.spec_json`); a definition
 * recorded without references, or one that is not a JSON object, has none.
 */
export function referencesOfStoredDefinition(specJson: string, fail: Fail): ReferenceCell[] {
  let def: unknown;
  try {
    def = JSON.parse(specJson);
  } catch {
    return [];
  }
  if (!isPlainObject(def) || !Object.hasOwn(def, 'reference')) return [];
  return parseReferences(def.reference, fail);
}

// ---- matching ---------------------------------------------------------------------------------

/** Whether every `where` key's resolved value in `config` is present and equal. */
export function referenceMatches(ref: Pick<ReferenceCell, 'where'>, config: unknown): boolean {
  return Object.entries(ref.where).every(([k, v]) => {
    const r = resolvedValueAt(config, k);
    return r.present && canonicalJson(r.value) === canonicalJson(v);
  });
}

/** `a` names every key of `b` with the same value (then `a` is at least as specific). */
function covers(a: ReferenceCell, b: ReferenceCell): boolean {
  return Object.entries(b.where).every(
    ([k, v]) => Object.hasOwn(a.where, k) && canonicalJson(a.where[k]) === canonicalJson(v),
  );
}

function sameWhere(a: ReferenceCell, b: ReferenceCell): boolean {
  return covers(a, b) && covers(b, a);
}

function sameValue(a: ReferenceCell, b: ReferenceCell): boolean {
  return a.mean === b.mean && a.std === b.std;
}

/** `68.09 ± 0.49` */
function valueText(r: ReferenceCell): string {
  return `${r.mean}${r.std === null ? '' : ` ± ${r.std}`}`;
}

/** A problem of one reference cell (`index`) against the runs; `other`: the cell it clashes with. */
export interface ReferenceProblem {
  index: number;
  other?: number;
  message: string;
}

/**
 * The problems of a sweep's references against its runs (resolved configs, in expansion order):
 * a cell that matches no run (naming the keys whose value no run has); a cell that repeats an
 * earlier one's `where` and metric; two cells of one metric that both match a run, give
 * different values, and neither names all of the other's keys (a table cell of that run could
 * not tell which one to show). Empty when all is well.
 */
export function referenceProblems(refs: readonly ReferenceCell[], configs: readonly unknown[]): ReferenceProblem[] {
  const problems: ReferenceProblem[] = [];
  const matched = refs.map((r) => configs.map((c) => referenceMatches(r, c)));
  refs.forEach((r, i) => {
    if (matched[i].some(Boolean)) return;
    const missing = Object.entries(r.where).flatMap(([k, v]) => {
      const seen = new Map<string, string>();
      for (const c of configs) {
        const rv = resolvedValueAt(c, k);
        const id = rv.present ? canonicalJson(rv.value) : '-';
        if (!seen.has(id))
          seen.set(id, rv.present ? (typeof rv.value === 'string' ? rv.value : canonicalJson(rv.value)) : '-');
      }
      if (seen.has(canonicalJson(v))) return [];
      const values = [...seen.values()];
      return [
        `no run has ${describeWhere({ [k]: v })} (the runs have ` +
          `${values.slice(0, 8).join(', ')}${values.length > 8 ? ', ...' : ''})`,
      ];
    });
    const why = missing.length ? missing.join('; ') : 'no run has all of these values at once';
    problems.push({ index: i, message: `where ${describeWhere(r.where)} matches no run of the sweep: ${why}` });
  });
  for (let j = 0; j < refs.length; j++) {
    for (let i = 0; i < j; i++) {
      const [a, b] = [refs[i], refs[j]];
      if (a.metric !== b.metric) continue;
      if (sameWhere(a, b)) {
        problems.push({
          index: j,
          other: i,
          message:
            `repeats the where (${describeWhere(b.where)}) and metric (${b.metric}) of reference[${i}]; give ` +
            `each cell once`,
        });
        continue;
      }
      if (sameValue(a, b) || covers(a, b) || covers(b, a)) continue;
      const both = matched[i].findIndex((m, k) => m && matched[j][k]);
      if (both < 0) continue;
      problems.push({
        index: j,
        other: i,
        message:
          `where ${describeWhere(b.where)} (${valueText(b)}) and reference[${i}]'s where ` +
          `${describeWhere(a.where)} (${valueText(a)}) both match runs ` +
          `with ${describeWhere({ ...a.where, ...b.where })}, give different values of ${b.metric}, and ` +
          `neither names all of the other's keys; ` +
          'make the one meant for those runs name every key of the other',
      });
    }
  }
  return problems;
}

/** The references that fit a table cell and the one it shows. */
export interface CellReference {
  /** indices of the references of the metric whose `where` matches every run of the cell */
  fits: number[];
  /** the one shown: the most specific of them; null when none fits or they disagree */
  chosen: number | null;
  /** the most specific ones when they disagree (else empty) */
  conflict: number[];
}

/**
 * The reference of a table cell for `metric`: among the cells whose `where` matches every run
 * of the table cell (`configs`), the most specific (one that names every key of the others
 * with the same values); when several are most specific they must agree (then the first is
 * taken), else they are a conflict and none is shown (expansion refuses such sweeps, so only
 * a database written otherwise has one). A table cell without runs has no reference.
 */
export function referenceForCell(
  refs: readonly ReferenceCell[],
  metric: Metric,
  configs: readonly unknown[],
): CellReference {
  if (configs.length === 0) return { fits: [], chosen: null, conflict: [] };
  const fits = refs.flatMap((r, i) => (r.metric === metric && configs.every((c) => referenceMatches(r, c)) ? [i] : []));
  const most = fits.filter((i) => !fits.some((j) => j !== i && covers(refs[j], refs[i]) && !covers(refs[i], refs[j])));
  if (most.length === 0) return { fits, chosen: null, conflict: [] };
  if (most.every((i) => sameValue(refs[i], refs[most[0]]))) return { fits, chosen: most[0], conflict: [] };
  return { fits, chosen: null, conflict: most };
}
