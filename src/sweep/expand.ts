/**
 * Expansion of a sweep into runs: every case (or the base alone) x the cartesian product of the
 * grid x the zip positions, each resolved into a canonical RunConfig, then the exclude entries
 * dropped and identical runs merged (two spellings of one run are computed once). Last, the
 * sweep's reference cells are checked against the runs (each must match one; see reference.ts).
 */
import { type KeyValue, resolvedValueAt } from '../core/config/resolved-value.ts';
import { RUN_SCHEMA, type RunConfig, resolveRunConfig } from '../core/config/run-config.ts';
import { ConfigError, fieldAt, setDotted } from '../core/config/schema.ts';
import { canonicalJson, runHash } from './canonical.ts';
import { referenceProblems } from './reference.ts';
import { type Assignments, SweepError, type SweepSpec } from './spec.ts';

export interface ExpandedRun {
  hash: string;
  config: RunConfig;
  /** the swept values that made this run (dotted key -> value) */
  assignments: Assignments;
}

export interface Expansion {
  runs: ExpandedRun[];
  /** combinations before exclusion and merging */
  combinations: number;
  excluded: number;
  /** combinations that resolved to a run already in the list */
  merged: number;
}

/** Ensures `key` names a field of the run config; errors carry the sweep line. */
function checkKey(spec: SweepSpec, section: string, key: string): void {
  if (fieldAt(RUN_SCHEMA, key) === undefined) {
    const line = spec.lines.get(`${section}.${key}`);
    throw new SweepError(`${spec.file}${line ? `:${line}` : ''}: ${section}.${key}: unknown run config field`);
  }
}

/** True when the field holds a list itself (then a list of lists enumerates alternatives). */
function isListField(key: string): boolean {
  const f = fieldAt(RUN_SCHEMA, key);
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

/** An exclude entry's value matches a resolved value when that is present and deep-equal. */
function matches(resolved: KeyValue, wanted: unknown): boolean {
  return resolved.present && canonicalJson(resolved.value) === canonicalJson(wanted);
}

function describe(a: Assignments): string {
  const parts = Object.entries(a).map(([k, v]) => `${k}=${JSON.stringify(v)}`);
  return parts.length ? parts.join(' ') : 'base';
}

export function expandSweep(spec: SweepSpec): Expansion {
  for (const k of Object.keys(spec.grid)) checkKey(spec, 'grid', k);
  for (const k of Object.keys(spec.zip)) checkKey(spec, 'zip', k);
  spec.cases.forEach((c, i) => Object.keys(c).forEach((k) => checkKey(spec, `cases[${i}]`, k)));
  spec.exclude.forEach((c, i) => Object.keys(c).forEach((k) => checkKey(spec, `exclude[${i}]`, k)));

  const gridCombos = product(Object.entries(spec.grid).map(([k, v]) => [k, alternatives(k, v, true)]));
  const zipLength = Object.values(spec.zip).reduce<number>((n, v) => Math.max(n, (v as unknown[]).length), 0);
  const zipRows: Assignments[] =
    zipLength === 0 ? [{}] : Array.from({ length: zipLength }, (_, i) => Object.fromEntries(Object.entries(spec.zip).map(([k, v]) => [k, (v as unknown[])[i]])));
  const caseAlts: Array<{ index: number; a: Assignments }> =
    spec.cases.length === 0
      ? [{ index: -1, a: {} }]
      : spec.cases.flatMap((c, index) => product(Object.entries(c).map(([k, v]) => [k, alternatives(k, v, true)])).map((a) => ({ index, a })));

  const runs: ExpandedRun[] = [];
  const seen = new Set<string>();
  let combinations = 0;
  let excluded = 0;
  let merged = 0;
  for (const { index, a: caseA } of caseAlts) {
    for (const g of gridCombos) {
      for (const z of zipRows) {
        combinations++;
        const assignments: Assignments = { ...g, ...z, ...caseA };
        const raw = structuredClone(spec.base) as Record<string, unknown>;
        for (const [k, v] of Object.entries(assignments)) setDotted(raw, k, structuredClone(v));
        let config: RunConfig;
        try {
          config = resolveRunConfig(raw);
        } catch (e) {
          if (!(e instanceof ConfigError)) throw e;
          throw new SweepError(`${locate(spec, e.path, assignments, index)}: run ${describe(assignments)}: ${e.message}`);
        }
        if (spec.exclude.some((ex) => Object.entries(ex).every(([k, v]) => matches(resolvedValueAt(config, k), v)))) {
          excluded++;
          continue;
        }
        const hash = runHash(config);
        if (seen.has(hash)) {
          merged++;
          continue;
        }
        seen.add(hash);
        runs.push({ hash, config, assignments });
      }
    }
  }
  if (runs.length === 0) {
    throw new SweepError(`${spec.file}: the sweep expands to no runs (${combinations} combinations, ${excluded} excluded)`);
  }
  const problem = referenceProblems(spec.reference, runs.map((r) => r.config))[0];
  if (problem) {
    const lineOf = (i: number): string => {
      const line = spec.lines.get(`reference[${i}]`) ?? spec.lines.get(`reference[${i}].where`);
      return line === undefined ? spec.file : `${spec.file}:${line}`;
    };
    const other = problem.other === undefined ? '' : ` (reference[${problem.other}] is at ${lineOf(problem.other)})`;
    throw new SweepError(`${lineOf(problem.index)}: reference[${problem.index}]: ${problem.message}${other}`);
  }
  return { runs, combinations, excluded, merged };
}

/** file:line of the key a config error is about: where the run got it from. */
function locate(spec: SweepSpec, path: string, assignments: Assignments, caseIndex: number): string {
  const candidates = [`cases[${caseIndex}].${path}`, `grid.${path}`, `zip.${path}`, `base.${path}`];
  // an error on a nested field may come from a swept parent group or a dotted child
  for (const key of Object.keys(assignments)) if (path.startsWith(`${key}.`) || key.startsWith(`${path}.`)) candidates.push(`cases[${caseIndex}].${key}`, `grid.${key}`, `zip.${key}`);
  for (const c of candidates) {
    const line = spec.lines.get(c);
    if (line !== undefined) return `${spec.file}:${line}`;
  }
  return spec.file;
}
