/**
 * Expansion of a sweep into runs: every case (or the base alone) x the cartesian product of the
 * grid x the zip positions, each resolved into a canonical RunConfig, then the exclude entries
 * dropped and identical runs merged (two spellings of one run are computed once). Last, the
 * sweep's reference cells are checked against the runs (each must match one; see reference.ts),
 * and its view (view.ts: its keys must occur in some run, its metric be one the runs record).
 *
 * The work is bounded before it starts: the combinations are counted from the sizes of the lists
 * (nothing materialised) and refused above `maxRuns` (default DEFAULT_MAX_RUNS) with the sizes
 * that multiply; a run's canonical config may not exceed MAX_RUN_CONFIG_BYTES, nor all of them
 * together maxRuns x 2 KB; and the exclude entries and reference cells checked against every
 * combination may not exceed maxRuns x 100 checks.
 */
import { type KeyValue, resolvedValueAt } from '../core/config/resolved-value.ts';
import { RUN_SCHEMA, type RunConfig, resolveRunConfig } from '../core/config/run-config.ts';
import { ConfigError, type FieldSpec, type GroupSpec, setDotted, nearestKeys } from '../core/config/schema.ts';
import { canonicalJson, runHashOfCanonical } from './canonical.ts';
import { referenceProblems } from './reference.ts';
import { type Assignments, SweepError, type SweepSpec } from './spec.ts';
import { viewProblem } from './view.ts';

export interface ExpandedRun {
  hash: string;
  config: RunConfig;
  /** canonicalJson(config), as hashed (what the database stores) */
  configJson: string;
  /** the swept values that made this run (dotted key -> value) */
  assignments: Assignments;
}

/** The default of `maxRuns`: more combinations than any real cluster sweep (a few thousand runs). */
export const DEFAULT_MAX_RUNS = 100_000;
/** Largest canonical config of one run (a real one is about 1 KB). */
export const MAX_RUN_CONFIG_BYTES = 16 * 1024;
/** The canonical configs of all runs together may not exceed maxRuns times this (bytes). */
const CONFIG_BYTES_PER_RUN = 2048;
/** Exclude entries plus reference cells, checked against every combination: at most maxRuns times this checks. */
const CHECKS_PER_RUN = 100;

export interface ExpandOptions {
  /** refuse sweeps of more combinations than this (default DEFAULT_MAX_RUNS) */
  maxRuns?: number;
}

/** One of the sizes that multiply into a sweep's combinations. */
export interface SizeFactor {
  /** `grid.seed`, `zip`, `cases` */
  what: string;
  line: number | undefined;
  n: number;
  /** for `cases`: the largest case and its size */
  detail?: string;
}

export interface SweepSize {
  /** cases x grid x zip (may be Infinity for absurd sizes) */
  combinations: number;
  grid: number;
  cases: number;
  zip: number;
  factors: SizeFactor[];
}

export interface Expansion {
  runs: ExpandedRun[];
  /** combinations before exclusion and merging */
  combinations: number;
  excluded: number;
  /** combinations that resolved to a run already in the list */
  merged: number;
}

/** The schema entry at a dotted key (own fields only: `constructor` or `__proto__` name no field). */
function schemaAt(key: string): FieldSpec | GroupSpec | undefined {
  let cur: FieldSpec | GroupSpec = RUN_SCHEMA;
  for (const p of key.split('.')) {
    if (cur.kind !== 'group' || !Object.hasOwn(cur.fields, p)) return undefined;
    cur = cur.fields[p];
  }
  return cur;
}

/** Ensures `key` names a field of the run config; errors carry the sweep line. */
function checkKey(spec: SweepSpec, section: string, key: string): void {
  if (schemaAt(key) === undefined) {
    const line = spec.lines.get(`${section}.${key}`);
    const near = nearestKeys(RUN_SCHEMA, key, { withGroups: true });
    throw new SweepError(
      `${spec.file}${line ? `:${line}` : ''}: ${section}.${key}: unknown run config ` +
        `field${near.length > 0 ? `; did you mean ${near.join(' or ')}?` : ''}`,
    );
  }
}

/** True when the field holds a list itself (then a list of lists enumerates alternatives). */
function isListField(key: string): boolean {
  const f = schemaAt(key);
  return f !== undefined && f.kind === 'field' && f.type === 'number[]';
}

/** The alternatives of one swept value: a list expands, except a flat list for a list field. */
function alternatives(key: string, value: unknown, listsExpand: boolean): unknown[] {
  if (!Array.isArray(value)) return [value];
  if (isListField(key)) return value.every(Array.isArray) ? value : listsExpand ? [value] : value;
  return listsExpand ? value : [value];
}

function product(entries: Array<[string, unknown[]]>): Assignments[] {
  let out: Assignments[] = [{}];
  for (const [key, values] of entries) out = out.flatMap((a) => values.map((v) => ({ ...a, [key]: v })));
  return out;
}

/** A resolved value as exclude entries compare it: its canonical JSON, or null when absent. */
function canonicalOf(resolved: KeyValue): string | null {
  return resolved.present ? canonicalJson(resolved.value) : null;
}

function describe(a: Assignments): string {
  const shown = (v: unknown): string => {
    const text = JSON.stringify(v) ?? String(v);
    return text.length > 100 ? `${text.slice(0, 100)}...` : text;
  };
  const parts = Object.entries(a).map(([k, v]) => `${k}=${shown(v)}`);
  return parts.length ? parts.join(' ') : 'base';
}

/** `20,000` */
function count(n: number): string {
  return Number.isFinite(n) ? n.toLocaleString('en-US') : 'more than 2^1024';
}

function checkAllKeys(spec: SweepSpec): void {
  for (const k of Object.keys(spec.grid)) checkKey(spec, 'grid', k);
  for (const k of Object.keys(spec.zip)) checkKey(spec, 'zip', k);
  spec.cases.forEach((c, i) => Object.keys(c).forEach((k) => checkKey(spec, `cases[${i}]`, k)));
  spec.exclude.forEach((c, i) => Object.keys(c).forEach((k) => checkKey(spec, `exclude[${i}]`, k)));
}

/**
 * The number of combinations of a sweep and the sizes that multiply into it, counted from the
 * lengths of its lists: nothing is materialised (keys are checked first, since whether a list
 * expands depends on the field).
 */
export function sweepSize(spec: SweepSpec): SweepSize {
  checkAllKeys(spec);
  const factors: SizeFactor[] = [];
  let grid = 1;
  for (const [k, v] of Object.entries(spec.grid)) {
    const n = alternatives(k, v, true).length;
    grid *= n;
    factors.push({ what: `grid.${k}`, line: spec.lines.get(`grid.${k}`), n });
  }
  const zipLength = Object.values(spec.zip).reduce<number>((n, v) => Math.max(n, (v as unknown[]).length), 0);
  const zip = Math.max(1, zipLength);
  if (zipLength > 0) factors.push({ what: 'zip', line: spec.lines.get('zip'), n: zipLength });
  let cases = 1;
  if (spec.cases.length > 0) {
    cases = 0;
    let largest = { i: -1, n: -1, parts: [] as string[] };
    spec.cases.forEach((c, i) => {
      let n = 1;
      const parts: string[] = [];
      for (const [k, v] of Object.entries(c)) {
        const m = alternatives(k, v, true).length;
        n *= m;
        if (m > 1) parts.push(`${k} ${count(m)}`);
      }
      cases += n;
      if (n > largest.n) largest = { i, n, parts };
    });
    const at = spec.lines.get(`cases[${largest.i}]`);
    const detail =
      `largest: cases[${largest.i}]${at === undefined ? '' : ` at line ${at}`} with ` +
      `${count(largest.n)}${largest.parts.length > 1 ? ` = ${largest.parts.join(' x ')}` : ''}`;
    factors.push({ what: 'cases', line: spec.lines.get('cases'), n: cases, detail });
  }
  return { combinations: cases * grid * zip, grid, cases, zip, factors };
}

/** `grid.seed (line 4) 20,000 values x grid.lr (line 5) 20,000 values x cases (line 7) 3 alternatives (...)` */
function describeFactors(factors: SizeFactor[]): string {
  const shown = factors.filter((f) => f.n !== 1).sort((a, b) => b.n - a.n);
  const parts = shown.slice(0, 8).map((f) => {
    const unit = f.what === 'zip' ? 'positions' : f.what === 'cases' ? 'alternatives' : 'values';
    return (
      `${f.what}${f.line === undefined ? '' : ` (line ${f.line})`} ${count(f.n)} ` +
      `${unit}${f.detail ? ` (${f.detail})` : ''}`
    );
  });
  if (shown.length > 8) parts.push(`${shown.length - 8} more lists`);
  return parts.length > 0 ? parts.join(' x ') : 'no lists';
}

function checkMaxRuns(maxRuns: number): void {
  if (!(Number.isInteger(maxRuns) && maxRuns >= 1))
    throw new RangeError(`maxRuns: expected a positive integer, got ${String(maxRuns)}`);
}

/**
 * Refuses a sweep whose expansion would exceed the limits, before anything is materialised:
 * more than `maxRuns` combinations (naming the sizes that multiply and the line of the largest),
 * or more exclude and reference checks than maxRuns x 100.
 */
export function checkSweepSize(spec: SweepSpec, maxRuns: number = DEFAULT_MAX_RUNS): SweepSize {
  checkMaxRuns(maxRuns);
  const size = sweepSize(spec);
  const biggest = Math.max(size.combinations, size.grid, size.cases, size.zip);
  if (biggest > maxRuns) {
    const top = size.factors.filter((f) => f.n !== 1).sort((a, b) => b.n - a.n)[0];
    const where = top?.line === undefined ? spec.file : `${spec.file}:${top.line}`;
    const what =
      size.combinations >= biggest
        ? `${count(size.combinations)} combinations`
        : `a list of ${count(biggest)} alternatives`;
    throw new SweepError(
      `${where}: the sweep expands to ${what}, more than the limit of ${count(maxRuns)} runs (--max-runs): ` +
        `${describeFactors(size.factors)}; ` +
        'split the sweep into smaller ones or raise --max-runs',
    );
  }
  const checks = spec.exclude.length + spec.reference.length;
  if (checks > 0 && size.combinations * checks > maxRuns * CHECKS_PER_RUN) {
    const line = spec.lines.get(spec.exclude.length >= spec.reference.length ? 'exclude' : 'reference');
    throw new SweepError(
      `${spec.file}${line === undefined ? '' : `:${line}`}: ${spec.exclude.length} exclude entries and ` +
        `${spec.reference.length} reference cells, each checked against ` +
        `${count(size.combinations)} combinations, are more than ${count(maxRuns * CHECKS_PER_RUN)} checks ` +
        `(${CHECKS_PER_RUN} per run of --max-runs ${count(maxRuns)}); ` +
        'merge entries, split the sweep or raise --max-runs',
    );
  }
  return size;
}

export function expandSweep(spec: SweepSpec, options: ExpandOptions = {}): Expansion {
  const maxRuns = options.maxRuns ?? DEFAULT_MAX_RUNS;
  checkSweepSize(spec, maxRuns);

  const gridCombos = product(Object.entries(spec.grid).map(([k, v]) => [k, alternatives(k, v, true)]));
  const zipLength = Object.values(spec.zip).reduce<number>((n, v) => Math.max(n, (v as unknown[]).length), 0);
  const zipRows: Assignments[] =
    zipLength === 0
      ? [{}]
      : Array.from({ length: zipLength }, (_, i) =>
          Object.fromEntries(Object.entries(spec.zip).map(([k, v]) => [k, (v as unknown[])[i]])),
        );
  const caseAlts: Array<{ index: number; a: Assignments }> =
    spec.cases.length === 0
      ? [{ index: -1, a: {} }]
      : spec.cases.flatMap((c, index) =>
          product(Object.entries(c).map(([k, v]) => [k, alternatives(k, v, true)])).map((a) => ({ index, a })),
        );
  // exclude entries as canonical JSON once; each run's resolved values once per key
  const excludes = spec.exclude.map((ex) => Object.entries(ex).map(([k, v]) => [k, canonicalJson(v)] as const));
  const excludeKeys = [...new Set(excludes.flatMap((ex) => ex.map(([k]) => k)))];

  const runs: ExpandedRun[] = [];
  const seen = new Set<string>();
  let combinations = 0;
  let excluded = 0;
  let merged = 0;
  let bytes = 0;
  const maxBytes = maxRuns * CONFIG_BYTES_PER_RUN;
  for (const { index, a: caseA } of caseAlts) {
    for (const g of gridCombos) {
      for (const z of zipRows) {
        combinations++;
        const assignments: Assignments = { ...g, ...z, ...caseA };
        const raw = structuredClone(spec.base) as Record<string, unknown>;
        let config: RunConfig;
        try {
          for (const [k, v] of Object.entries(assignments)) setDotted(raw, k, structuredClone(v));
          config = resolveRunConfig(raw);
        } catch (e) {
          if (!(e instanceof ConfigError)) throw e;
          throw new SweepError(
            `${locate(spec, e.path, assignments, index)}: run ${describe(assignments)}: ${e.message}`,
          );
        }
        if (excludes.length > 0) {
          const values = new Map(excludeKeys.map((k) => [k, canonicalOf(resolvedValueAt(config, k))]));
          if (excludes.some((ex) => ex.every(([k, wanted]) => values.get(k) === wanted))) {
            excluded++;
            continue;
          }
        }
        const json = canonicalJson(config);
        if (json.length > MAX_RUN_CONFIG_BYTES) {
          throw new SweepError(
            `${locate(spec, '', assignments, index)}: run ${describe(assignments).slice(0, 200)}: its ` +
              `canonical config has ${count(json.length)} bytes, ` +
              `more than ${count(MAX_RUN_CONFIG_BYTES)} (a real one has about 1,000): a list or text in it is too long`,
          );
        }
        bytes += json.length;
        if (bytes > maxBytes) {
          throw new SweepError(
            `${spec.file}: the runs' canonical configs add up to more than ${count(maxBytes)} bytes after ` +
              `${count(combinations)} combinations ` +
              `(${count(CONFIG_BYTES_PER_RUN)} per run of --max-runs ${count(maxRuns)}): long lists or texts ` +
              `in many runs; split the sweep or raise --max-runs`,
          );
        }
        const hash = runHashOfCanonical(json);
        if (seen.has(hash)) {
          merged++;
          continue;
        }
        seen.add(hash);
        runs.push({ hash, config, configJson: json, assignments });
      }
    }
  }
  if (runs.length === 0) {
    throw new SweepError(
      `${spec.file}: the sweep expands to no runs (${combinations} combinations, ${excluded} excluded)`,
    );
  }
  const problem = referenceProblems(
    spec.reference,
    runs.map((r) => r.config),
  )[0];
  if (problem) {
    const lineOf = (i: number): string => {
      const line = spec.lines.get(`reference[${i}]`) ?? spec.lines.get(`reference[${i}].where`);
      return line === undefined ? spec.file : `${spec.file}:${line}`;
    };
    const other = problem.other === undefined ? '' : ` (reference[${problem.other}] is at ${lineOf(problem.other)})`;
    throw new SweepError(`${lineOf(problem.index)}: reference[${problem.index}]: ${problem.message}${other}`);
  }
  const viewed =
    spec.view === null
      ? null
      : viewProblem(
          spec.view,
          runs.map((r) => r.config),
        );
  if (viewed) {
    const [path, message] = viewed;
    const line = spec.lines.get(path) ?? spec.lines.get(path.replace(/\[\d+\]$/, '')) ?? spec.lines.get('view');
    throw new SweepError(`${spec.file}${line === undefined ? '' : `:${line}`}: ${path}: ${message}`);
  }
  return { runs, combinations, excluded, merged };
}

/** file:line of the key a config error is about: where the run got it from. */
function locate(spec: SweepSpec, path: string, assignments: Assignments, caseIndex: number): string {
  const candidates = [`cases[${caseIndex}].${path}`, `grid.${path}`, `zip.${path}`, `base.${path}`];
  // an error on a nested field may come from a swept parent group or a dotted child
  for (const key of Object.keys(assignments))
    if (path.startsWith(`${key}.`) || key.startsWith(`${path}.`))
      candidates.push(`cases[${caseIndex}].${key}`, `grid.${key}`, `zip.${key}`);
  for (const c of candidates) {
    const line = spec.lines.get(c);
    if (line !== undefined) return `${spec.file}:${line}`;
  }
  return spec.file;
}
