/**
 * Sweep definitions: YAML files with `name`, `description`, `base`, `grid`, `cases`, `zip`,
 * `exclude` and `reference` (grammar: docs/sweeps.md). Parsing keeps line numbers so every
 * error can name the file, the line and the dotted path of the offending key.
 */
import { readFileSync } from 'node:fs';
import { isMap, isScalar, isSeq, LineCounter, type Node, parseDocument } from 'yaml';
import { parseReferences, type ReferenceCell } from './reference.ts';

export class SweepError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SweepError';
  }
}

export type Value = unknown;
export type Assignments = Record<string, Value>;

export interface SweepSpec {
  file: string;
  name: string;
  description: string;
  /** partial run config, nested */
  base: Record<string, unknown>;
  /** dotted key -> list of alternatives */
  grid: Assignments;
  /** alternatives; a list value inside a case expands */
  cases: Assignments[];
  /** dotted key -> list, all of one length */
  zip: Assignments;
  exclude: Assignments[];
  /** the papers' numbers for cells of the sweep's tables (src/sweep/reference.ts) */
  reference: ReferenceCell[];
  /** line of the first occurrence of each key path (section-qualified and plain dotted), and of each list item (`cases[1]`) */
  lines: Map<string, number>;
}

const TOP_KEYS = ['name', 'description', 'base', 'grid', 'cases', 'zip', 'exclude', 'reference'] as const;

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Records the line of every key of a mapping and of every list item, recursively, under dotted paths. */
function collectLines(node: Node | null | undefined, prefix: string, counter: LineCounter, out: Map<string, number>): void {
  if (!isMap(node)) {
    if (isSeq(node)) {
      node.items.forEach((item, i) => {
        const range = (item as Node | null)?.range;
        if (range && !out.has(`${prefix}[${i}]`)) out.set(`${prefix}[${i}]`, counter.linePos(range[0]).line);
        collectLines(item as Node, `${prefix}[${i}]`, counter, out);
      });
    }
    return;
  }
  for (const pair of node.items) {
    const key = isScalar(pair.key) ? String(pair.key.value) : '';
    const path = prefix ? `${prefix}.${key}` : key;
    const range = isScalar(pair.key) ? pair.key.range : undefined;
    if (range && !out.has(path)) out.set(path, counter.linePos(range[0]).line);
    collectLines(pair.value as Node, path, counter, out);
  }
}

export function parseSweepText(text: string, file: string): SweepSpec {
  const counter = new LineCounter();
  const doc = parseDocument(text, { lineCounter: counter, uniqueKeys: true, prettyErrors: false });
  if (doc.errors.length > 0) {
    const e = doc.errors[0];
    const line = e.linePos?.[0]?.line ?? counter.linePos(e.pos[0]).line;
    throw new SweepError(`${file}:${line}: invalid YAML: ${e.message.split('\n')[0]}`);
  }
  const raw = doc.toJS() as unknown;
  const lines = new Map<string, number>();
  collectLines(doc.contents as Node, '', counter, lines);
  const at = (path: string): string => {
    const line = lines.get(path);
    return line === undefined ? `${file}` : `${file}:${line}`;
  };
  /** file:line of a path, or of its nearest enclosing key or list item that has a line (a missing key: its mapping's) */
  const near = (path: string): string => {
    for (let p = path; ; ) {
      const line = lines.get(p);
      if (line !== undefined) return `${file}:${line}`;
      const up = p.replace(/(\.[^.[\]]*|\[\d+\])$/, '');
      if (up === p || up === '') return file;
      p = up;
    }
  };
  if (!isPlainObject(raw)) throw new SweepError(`${file}: a sweep must be a YAML mapping with name, base, grid, cases, zip, exclude`);
  for (const key of Object.keys(raw)) {
    if (!(TOP_KEYS as readonly string[]).includes(key)) {
      throw new SweepError(`${at(key)}: ${key}: unknown sweep field (allowed: ${TOP_KEYS.join(', ')})`);
    }
  }
  const name = raw.name;
  if (typeof name !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) {
    throw new SweepError(`${at('name')}: name: expected a name of letters, digits, '.', '_' or '-', got ${JSON.stringify(name)}`);
  }
  const description = raw.description ?? '';
  if (typeof description !== 'string') throw new SweepError(`${at('description')}: description: expected text`);
  const base = raw.base ?? {};
  if (!isPlainObject(base)) throw new SweepError(`${at('base')}: base: expected a mapping of run config fields`);
  const grid = raw.grid ?? {};
  if (!isPlainObject(grid)) throw new SweepError(`${at('grid')}: grid: expected a mapping of dotted keys to lists`);
  for (const [k, v] of Object.entries(grid)) {
    if (!Array.isArray(v) || v.length === 0) throw new SweepError(`${at(`grid.${k}`)}: grid.${k}: expected a non-empty list of values`);
  }
  const zip = raw.zip ?? {};
  if (!isPlainObject(zip)) throw new SweepError(`${at('zip')}: zip: expected a mapping of dotted keys to lists of equal length`);
  let zipLength = -1;
  for (const [k, v] of Object.entries(zip)) {
    if (!Array.isArray(v) || v.length === 0) throw new SweepError(`${at(`zip.${k}`)}: zip.${k}: expected a non-empty list`);
    if (zipLength >= 0 && v.length !== zipLength) {
      throw new SweepError(`${at(`zip.${k}`)}: zip.${k}: has ${v.length} values but the other zip lists have ${zipLength}; zip lists move in lock step and must have equal length`);
    }
    zipLength = v.length;
  }
  const cases = raw.cases ?? [];
  if (!Array.isArray(cases) || cases.some((c) => !isPlainObject(c))) {
    throw new SweepError(`${at('cases')}: cases: expected a list of mappings (one per alternative)`);
  }
  const exclude = raw.exclude ?? [];
  if (!Array.isArray(exclude) || exclude.some((c) => !isPlainObject(c) || Object.keys(c).length === 0)) {
    throw new SweepError(`${at('exclude')}: exclude: expected a list of non-empty mappings (partial matches)`);
  }
  // one key, one place: a key swept in two sections would be ambiguous
  const owner = new Map<string, string>();
  const claim = (key: string, section: string): void => {
    const prev = owner.get(key);
    if (prev !== undefined && prev !== section && !(prev.startsWith('cases') && section.startsWith('cases'))) {
      throw new SweepError(`${at(`${section}.${key}`)}: ${section}.${key}: ${key} is already swept in ${prev}; give each key in one of grid, zip and cases`);
    }
    owner.set(key, section);
  };
  const reference = parseReferences(raw.reference, (path, message) => {
    throw new SweepError(`${near(path)}: ${path}: ${message}`);
  });
  for (const k of Object.keys(grid)) claim(k, 'grid');
  for (const k of Object.keys(zip)) claim(k, 'zip');
  cases.forEach((c, i) => {
    for (const k of Object.keys(c)) claim(k, `cases[${i}]`);
  });
  return {
    file,
    name,
    description,
    base,
    grid,
    cases: cases as Assignments[],
    zip,
    exclude: exclude as Assignments[],
    reference,
    lines,
  };
}

export function readSweepFile(file: string): SweepSpec {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new SweepError(`${file}: cannot read sweep file (${(e as Error).message})`);
  }
  return parseSweepText(text, file);
}
