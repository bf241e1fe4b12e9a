/**
 * Sweep definitions: YAML files with `name`, `description`, `base`, `grid`, `cases`, `zip`,
 * `exclude`, `reference` and `view` (grammar: docs/sweeps.md). Parsing keeps line numbers so every
 * error can name the file, the line and the dotted path of the offending key.
 */
import { isUtf8 } from 'node:buffer';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { isAlias, isCollection, isMap, isScalar, isSeq, LineCounter, type Node, parseDocument } from 'yaml';
import { didYouMean } from '../core/config/schema.ts';
import { parseReferences, type ReferenceCell } from './reference.ts';
import { parseView, type SweepView } from './view.ts';
import { InputError } from '../errors.ts';

/** Longest error message: a key or value of a hostile file is quoted, never the whole file. */
const MAX_MESSAGE = 1500;

export class SweepError extends InputError {
  constructor(message: string) {
    super(
      message.length > MAX_MESSAGE
        ? `${message.slice(0, MAX_MESSAGE)}... (${message.length - MAX_MESSAGE} more characters)`
        : message,
    );
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
  /** how tables, plots and the report read the sweep by default (src/sweep/view.ts); null when not given */
  view: SweepView | null;
  /**
   * line of the first occurrence of each key path (section-qualified and plain dotted), and of each list item
   * (`cases[1]`)
   */
  lines: Map<string, number>;
}

const TOP_KEYS = ['name', 'description', 'base', 'grid', 'cases', 'zip', 'exclude', 'reference', 'view'] as const;

/** Largest sweep file (and Submit payload) accepted: a real sweep file is a few KB. */
export const MAX_SWEEP_BYTES = 1024 * 1024;
/** Deepest nesting of mappings and lists (a run config is 3 levels deep; a list of lists in a case 5). */
export const MAX_DEPTH = 32;
/** Most values (mapping entries and list items) the document may hold once its aliases are expanded. */
export const MAX_VALUES = 2_000_000;
/** Longest sweep name. */
const MAX_NAME_LENGTH = 200;
/** The sections whose values become run config values: their numbers must be finite. */
const RUN_VALUE_SECTIONS = ['base', 'grid', 'cases', 'zip', 'exclude'];

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

/** Records the line of every key of a mapping and of every list item, recursively, under dotted paths. */
function collectLines(
  node: Node | null | undefined,
  prefix: string,
  counter: LineCounter,
  out: Map<string, number>,
): void {
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

/** `1,048,576` */
function count(n: number): string {
  return n.toLocaleString('en-US');
}

function lineOf(node: Node | null | undefined, counter: LineCounter): number | undefined {
  const range = node?.range;
  return range ? counter.linePos(range[0]).line : undefined;
}

/**
 * Checks the YAML node tree before it becomes JavaScript: nesting depth, mapping keys that are
 * not text (YAML allows lists as keys; JavaScript would stringify them), and aliases that name
 * no anchor before them. Recursion stops at MAX_DEPTH, so a deep document cannot overflow the stack.
 */
function checkNodes(root: Node | null | undefined, file: string, counter: LineCounter): void {
  const anchors = new Set<string>();
  const fail = (node: Node | null | undefined, message: string): never => {
    const line = lineOf(node, counter);
    throw new SweepError(`${file}${line === undefined ? '' : `:${line}`}: ${message}`);
  };
  const walk = (node: Node | null | undefined, depth: number): void => {
    if (node === null || node === undefined) return;
    if (isAlias(node)) {
      if (!anchors.has(node.source))
        fail(node, `*${node.source}: undefined YAML alias (no anchor &${node.source} before it)`);
      return;
    }
    if (node.anchor) anchors.add(node.anchor);
    if (!isCollection(node)) return;
    if (depth >= MAX_DEPTH) fail(node, `mappings and lists nested more than ${MAX_DEPTH} levels deep`);
    if (isMap(node)) {
      // duplicate keys found here, in linear time (the parser's own check is quadratic in the keys)
      const seen = new Set<string>();
      for (const pair of node.items) {
        const key = pair.key as Node | null;
        if (key !== null && !isScalar(key)) fail(key, 'a mapping key must be text, not a list, mapping or alias');
        if (isScalar(key) && key.anchor) anchors.add(key.anchor);
        const name = isScalar(key) && key.value !== null ? String(key.value) : '';
        if (name === '__proto__') fail(key, '__proto__: not a valid key');
        if (seen.has(name))
          fail(
            key ?? node,
            `invalid YAML: Map keys must be unique: ${JSON.stringify(name.slice(0, 80))} appears twice`,
          );
        seen.add(name);
        walk(pair.value as Node | null, depth + 1);
      }
    } else {
      for (const item of node.items) walk(item as Node | null, depth + 1);
    }
  };
  walk(root, 0);
}

/** An alias whose anchored node itself holds aliases: the likely culprit of an alias bomb. */
function nestedAliasLine(
  root: Node | null | undefined,
  counter: LineCounter,
): { line: number | undefined; name: string } | undefined {
  const anchored = new Map<string, Node>();
  let first: { line: number | undefined; name: string } | undefined;
  let found: { line: number | undefined; name: string } | undefined;
  const memo = new Map<Node, boolean>();
  const holdsAlias = (node: Node, depth: number): boolean => {
    if (isAlias(node)) return true;
    if (!isCollection(node) || depth > MAX_DEPTH) return false;
    const known = memo.get(node);
    if (known !== undefined) return known;
    const items: unknown[] = isMap(node) ? node.items.map((p) => p.value) : node.items;
    const holds = items.some((i) => i !== null && holdsAlias(i as Node, depth + 1));
    memo.set(node, holds);
    return holds;
  };
  const walk = (node: Node | null | undefined, depth: number): void => {
    if (!node || found || depth > MAX_DEPTH) return;
    if (isAlias(node)) {
      const target = anchored.get(node.source);
      const here = { line: lineOf(node, counter), name: node.source };
      first ??= here;
      if (target && holdsAlias(target, 0)) found = here;
      return;
    }
    if (node.anchor) anchored.set(node.anchor, node);
    if (isMap(node)) for (const p of node.items) walk(p.value as Node | null, depth + 1);
    else if (isSeq(node)) for (const i of node.items) walk(i as Node | null, depth + 1);
  };
  walk(root, 0);
  return found ?? first;
}

/**
 * Checks the document as JavaScript values (after aliases are expanded): no cycles (an alias
 * inside the node it names), no more than MAX_VALUES values, only plain values (YAML tags such
 * as !!binary or !!set give other objects), and finite numbers in the run config sections.
 */
function checkValues(raw: unknown, file: string, near: (path: string) => string): void {
  let values = 0;
  const onPath = new Set<object>();
  const walk = (v: unknown, path: string, depth: number, finite: boolean): void => {
    if (typeof v === 'number') {
      if (finite && !Number.isFinite(v))
        throw new SweepError(`${near(path)}: ${path}: expected a finite number, got ${v}`);
      return;
    }
    if (v === null || typeof v === 'string' || typeof v === 'boolean') return;
    if (typeof v !== 'object') throw new SweepError(`${near(path)}: ${path}: unsupported value of type ${typeof v}`);
    const proto = Object.getPrototypeOf(v) as unknown;
    if (!Array.isArray(v) && proto !== Object.prototype && proto !== null) {
      throw new SweepError(
        `${near(path)}: ${path}: unsupported YAML value (${(v as object).constructor?.name ?? 'object'}); use ` +
          `text, numbers, true/false, null, lists and mappings (no !!binary, !!set, !!omap tags)`,
      );
    }
    if (onPath.has(v))
      throw new SweepError(`${near(path)}: ${path}: an alias refers to a mapping or list that contains it`);
    if (depth >= MAX_DEPTH)
      throw new SweepError(`${near(path)}: ${path}: mappings and lists nested more than ${MAX_DEPTH} levels deep`);
    onPath.add(v);
    const entries: Array<[string, unknown]> = Array.isArray(v)
      ? v.map((x, i) => [`[${i}]`, x])
      : Object.entries(v).map(([k, x]) => [path ? `.${k}` : k, x]);
    values += entries.length;
    if (values > MAX_VALUES)
      throw new SweepError(
        `${near(path)}: the document holds more than ${count(MAX_VALUES)} values once its aliases are expanded`,
      );
    for (const [step, x] of entries) {
      const sub = `${path}${step}`;
      walk(x, sub, depth + 1, finite || (depth === 0 && RUN_VALUE_SECTIONS.includes(step)));
    }
    onPath.delete(v);
  };
  walk(raw, '', 0, false);
}

/** The first byte offset at which `bytes` is not well-formed UTF-8. */
export function invalidUtf8Offset(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i];
    if (b < 0x80) {
      i++;
      continue;
    }
    let n: number;
    let min: number;
    if (b >= 0xc2 && b <= 0xdf) [n, min] = [1, 0x80];
    else if (b >= 0xe0 && b <= 0xef) [n, min] = [2, 0x800];
    else if (b >= 0xf0 && b <= 0xf4) [n, min] = [3, 0x10000];
    else return i;
    let cp = b & (0xff >> (n + 2));
    for (let k = 1; k <= n; k++) {
      const c = bytes[i + k];
      if (c === undefined || (c & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (c & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += n + 1;
  }
  return -1;
}

/** The text of a sweep file's bytes: refused (with the byte offset) unless well-formed UTF-8. */
export function decodeSweepBytes(bytes: Uint8Array, file: string): string {
  if (!isUtf8(bytes)) {
    const at = invalidUtf8Offset(bytes);
    let line = 1;
    for (let i = 0; i < at; i++) if (bytes[i] === 0x0a) line++;
    const hex = bytes[at]?.toString(16).padStart(2, '0') ?? '?';
    throw new SweepError(
      `${file}:${line}: invalid UTF-8 at byte offset ${at} (byte 0x${hex}); a sweep file must be UTF-8 text`,
    );
  }
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
}

function tooLarge(file: string, size: string): SweepError {
  return new SweepError(
    `${file}: ${size} bytes, more than the ${count(MAX_SWEEP_BYTES)} bytes (1 MiB) a sweep file may have (a ` +
      `real sweep file is a few KB)`,
  );
}

export function parseSweepText(text: string, file: string): SweepSpec {
  // the length in UTF-16 units bounds the UTF-8 length from below: check cheaply first
  if (text.length > MAX_SWEEP_BYTES || Buffer.byteLength(text, 'utf8') > MAX_SWEEP_BYTES)
    throw tooLarge(file, count(Buffer.byteLength(text, 'utf8')));
  const counter = new LineCounter();
  let doc: ReturnType<typeof parseDocument>;
  try {
    doc = parseDocument(text, { lineCounter: counter, uniqueKeys: false, prettyErrors: false });
  } catch (e) {
    throw new SweepError(`${file}: invalid YAML: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`);
  }
  if (doc.errors.length > 0) {
    const e = doc.errors[0];
    const line = e.linePos?.[0]?.line ?? counter.linePos(e.pos[0]).line;
    throw new SweepError(`${file}:${line}: invalid YAML: ${e.message.split('\n')[0]}`);
  }
  checkNodes(doc.contents as Node, file, counter);
  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: 100 }) as unknown;
  } catch (e) {
    const message = e instanceof Error ? e.message.split('\n')[0] : String(e);
    if (/alias/i.test(message)) {
      const at = nestedAliasLine(doc.contents as Node, counter);
      const where = at?.line === undefined ? file : `${file}:${at.line}`;
      throw new SweepError(
        `${where}: ${at ? `*${at.name}: ` : ''}aliases expand to too many copies (${message}); write the values out`,
      );
    }
    throw new SweepError(`${file}: invalid YAML: ${message}`);
  }
  const lines = new Map<string, number>();
  collectLines(doc.contents as Node, '', counter, lines);
  const at = (path: string): string => {
    const line = lines.get(path);
    return line === undefined ? `${file}` : `${file}:${line}`;
  };
  /**
   * file:line of a path, or of its nearest enclosing key or list item that has a line (a missing key: its mapping's)
   */
  const near = (path: string): string => {
    for (let p = path; ;) {
      const line = lines.get(p);
      if (line !== undefined) return `${file}:${line}`;
      const up = p.replace(/(\.[^.[\]]*|\[\d+\])$/, '');
      if (up === p || up === '') return file;
      p = up;
    }
  };
  if (!isPlainObject(raw))
    throw new SweepError(`${file}: a sweep must be a YAML mapping with name, base, grid, cases, zip, exclude`);
  checkValues(raw, file, near);
  for (const key of Object.keys(raw)) {
    if (!(TOP_KEYS as readonly string[]).includes(key)) {
      throw new SweepError(
        `${at(key)}: ${key}: unknown sweep field (allowed: ${TOP_KEYS.join(', ')})${didYouMean(key, TOP_KEYS)}`,
      );
    }
  }
  const name = raw.name;
  if (typeof name !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name) || name.length > MAX_NAME_LENGTH) {
    const shown =
      typeof name === 'string' && name.length > MAX_NAME_LENGTH
        ? `${JSON.stringify(name.slice(0, 40))}... (${count(name.length)} characters)`
        : JSON.stringify(name)?.slice(0, 200);
    throw new SweepError(
      `${at('name')}: name: expected a name of at most ${MAX_NAME_LENGTH} letters, digits, '.', '_' or '-', ` +
        `got ${shown}`,
    );
  }
  const description = raw.description ?? '';
  if (typeof description !== 'string') throw new SweepError(`${at('description')}: description: expected text`);
  const base = raw.base ?? {};
  if (!isPlainObject(base)) throw new SweepError(`${at('base')}: base: expected a mapping of run config fields`);
  const grid = raw.grid ?? {};
  if (!isPlainObject(grid)) throw new SweepError(`${at('grid')}: grid: expected a mapping of dotted keys to lists`);
  for (const [k, v] of Object.entries(grid)) {
    if (!Array.isArray(v) || v.length === 0)
      throw new SweepError(`${at(`grid.${k}`)}: grid.${k}: expected a non-empty list of values`);
  }
  const zip = raw.zip ?? {};
  if (!isPlainObject(zip))
    throw new SweepError(`${at('zip')}: zip: expected a mapping of dotted keys to lists of equal length`);
  let zipLength = -1;
  for (const [k, v] of Object.entries(zip)) {
    if (!Array.isArray(v) || v.length === 0)
      throw new SweepError(`${at(`zip.${k}`)}: zip.${k}: expected a non-empty list`);
    if (zipLength >= 0 && v.length !== zipLength) {
      throw new SweepError(
        `${at(`zip.${k}`)}: zip.${k}: has ${v.length} values but the other zip lists have ${zipLength}; zip ` +
          `lists move in lock step and must have equal length`,
      );
    }
    zipLength = v.length;
  }
  const cases = raw.cases ?? [];
  if (!Array.isArray(cases) || cases.some((c) => !isPlainObject(c))) {
    throw new SweepError(`${at('cases')}: cases: expected a list of mappings (one per alternative)`);
  }
  cases.forEach((c: Record<string, unknown>, i) => {
    for (const [k, v] of Object.entries(c)) {
      if (Array.isArray(v) && v.length === 0) {
        throw new SweepError(
          `${at(`cases[${i}].${k}`)}: cases[${i}].${k}: an empty list gives no alternatives (a list value that ` +
            `is empty is written [[]])`,
        );
      }
    }
  });
  const exclude = raw.exclude ?? [];
  if (!Array.isArray(exclude) || exclude.some((c) => !isPlainObject(c) || Object.keys(c).length === 0)) {
    throw new SweepError(`${at('exclude')}: exclude: expected a list of non-empty mappings (partial matches)`);
  }
  const reference = parseReferences(raw.reference, (path, message) => {
    throw new SweepError(`${near(path)}: ${path}: ${message}`);
  });
  const view = parseView(raw.view, (path, message) => {
    throw new SweepError(`${near(path)}: ${path}: ${message}`);
  });
  // one key, one place: a key swept in two sections would be ambiguous, and so is a group set in
  // one section (`device: {n_states: 8}`, nested spelling) over a field swept in another
  // (`device.n_states`): the group's value would replace the whole group, dropping the other's
  type Claim = { key: string; path: string; section: string };
  const claims: Claim[] = [];
  const claimsOf = (section: string, entries: Record<string, unknown>, nested: boolean): void => {
    // a group's fields before the group, so that a field swept twice is named as such
    const walk = (key: string, value: unknown, depth: number): void => {
      if (key.split('.', MAX_DEPTH + 1).length > MAX_DEPTH)
        throw new SweepError(
          `${at(`${section}.${key}`)}: ${section}.${key.slice(0, 80)}...: a key of more than ${MAX_DEPTH} parts`,
        );
      if (nested && isPlainObject(value) && depth < MAX_DEPTH)
        for (const [k, v] of Object.entries(value)) walk(`${key}.${k}`, v, depth + 1);
      claims.push({ key, path: `${section}.${key}`, section });
    };
    for (const [k, v] of Object.entries(entries)) walk(k, v, 0);
  };
  claimsOf('grid', grid, false);
  claimsOf('zip', zip, false);
  cases.forEach((c, i) => claimsOf(`cases[${i}]`, c as Record<string, unknown>, true));
  // per kind of section (grid, zip, cases): the keys claimed, and every proper prefix of them
  const kindOf = (section: string): string => (section.startsWith('cases') ? 'cases' : section);
  const exact = new Map<string, Map<string, Claim>>();
  const under = new Map<string, Map<string, Claim>>();
  for (const c of claims) {
    const kind = kindOf(c.section);
    const parts = c.key.split('.');
    for (const [other, keys] of exact) {
      if (other === kind) continue;
      for (let n = parts.length; n >= 1; n--) {
        const earlier = keys.get(parts.slice(0, n).join('.'));
        if (earlier) {
          const as = earlier.key === c.key ? '' : ` (as the group ${earlier.key})`;
          throw new SweepError(
            `${at(c.path)}: ${c.path}: ${c.key} is already swept in ${earlier.section}${as}; give each key in ` +
              `one of grid, zip and cases`,
          );
        }
      }
      const inner = under.get(other)?.get(c.key);
      if (inner) {
        throw new SweepError(
          `${at(c.path)}: ${c.path}: sets the whole group ${c.key}, which would replace the values of ` +
            `${inner.section}.${inner.key}; ` +
            `give the group's fields as dotted keys (${c.key}.<field>), each in one of grid, zip and cases`,
        );
      }
    }
    if (!exact.has(kind)) exact.set(kind, new Map());
    if (!under.has(kind)) under.set(kind, new Map());
    if (!exact.get(kind)!.has(c.key)) exact.get(kind)!.set(c.key, c);
    for (let n = parts.length - 1; n >= 1; n--) {
      const prefix = parts.slice(0, n).join('.');
      if (!under.get(kind)!.has(prefix)) under.get(kind)!.set(prefix, c);
    }
  }
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
    view,
    lines,
  };
}

/**
 * The text of a sweep file: at most MAX_SWEEP_BYTES bytes (never more is read), well-formed UTF-8;
 * errors as SweepError naming the file.
 */
export function readSweepText(file: string): string {
  let bytes: Buffer;
  try {
    const fd = openSync(file, 'r');
    try {
      const st = fstatSync(fd);
      if (st.isFile() && st.size > MAX_SWEEP_BYTES) throw tooLarge(file, count(st.size));
      // read at most one byte more than allowed (a pipe or special file has no size to check)
      const buffer = Buffer.alloc(MAX_SWEEP_BYTES + 1);
      let length = 0;
      for (let n = 1; n > 0 && length < buffer.length; length += n)
        n = readSync(fd, buffer, length, buffer.length - length, null);
      if (length > MAX_SWEEP_BYTES) throw tooLarge(file, `more than ${count(MAX_SWEEP_BYTES)}`);
      bytes = buffer.subarray(0, length);
    } finally {
      closeSync(fd);
    }
  } catch (e) {
    if (e instanceof SweepError) throw e;
    throw new SweepError(`${file}: cannot read sweep file (${(e as Error).message})`);
  }
  return decodeSweepBytes(bytes, file);
}

export function readSweepFile(file: string): SweepSpec {
  return parseSweepText(readSweepText(file), file);
}
