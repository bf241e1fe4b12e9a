/**
 * A small declarative schema for nested configuration objects: every field has a type, a
 * default, a range and a doc string, and may apply only when another field has some value
 * (e.g. `device.gamma_res` only for `device.kind: pow | exp`). One schema drives validation,
 * defaulting (the canonical config), `--set key=value` parsing and docs/config.md.
 */
import { InputError } from '../../errors.ts';

export class ConfigError extends InputError {
  readonly path: string;
  constructor(path: string, message: string) {
    super(path ? `${path}: ${message}` : message);
    this.name = 'ConfigError';
    this.path = path;
  }
}

export type Plain = Record<string, unknown>;
type When = (root: Plain) => boolean;

interface FieldBase {
  readonly kind: 'field';
  readonly doc: string;
  /** The field exists only when this holds on the (partially resolved) root config. */
  readonly when?: When;
  readonly whenDoc?: string;
  /**
   * A check of the value against the rest of the (partially resolved) root config, after the
   * type and range checks: returns the problem in words, or undefined when the value is fine.
   */
  readonly check?: (value: never, root: Plain) => string | undefined;
  /**
   * Left out of the canonical config while it holds its default: for fields added after results
   * existed, so that adding one changed no run's identity (its hash).
   */
  readonly omitAtDefault?: boolean;
}
export interface NumberField extends FieldBase {
  readonly type: 'number';
  readonly default: number | null | ((root: Plain) => number | null);
  readonly nullable?: boolean;
  readonly integer?: boolean;
  readonly min?: number;
  readonly max?: number;
  /** strict lower bound */
  readonly gt?: number;
}
export interface BooleanField extends FieldBase {
  readonly type: 'boolean';
  readonly default: boolean | ((root: Plain) => boolean);
}
export interface EnumField extends FieldBase {
  readonly type: 'enum';
  readonly values: readonly string[];
  readonly default: string | null | ((root: Plain) => string | null);
  readonly nullable?: boolean;
}
export interface NumberListField extends FieldBase {
  readonly type: 'number[]';
  readonly default: readonly number[];
  readonly minLength?: number;
  readonly min?: number;
  readonly integer?: boolean;
}
export interface StringField extends FieldBase {
  readonly type: 'string';
  readonly default: string | null;
  readonly nullable?: boolean;
}
export type FieldSpec = NumberField | BooleanField | EnumField | NumberListField | StringField;
export interface GroupSpec {
  readonly kind: 'group';
  readonly doc: string;
  readonly fields: Readonly<Record<string, FieldSpec | GroupSpec>>;
  readonly when?: When;
  /** When `when` fails, a given section is dropped instead of rejected (see RUN_SCHEMA). */
  readonly dropWhenInapplicable?: boolean;
  /**
   * Left out of the canonical config when none of its fields is there (all `omitAtDefault` at
   * their defaults): for sections added after results existed, so that no run's hash changed.
   */
  readonly omitWhenEmpty?: boolean;
}

export function group(
  doc: string,
  fields: Record<string, FieldSpec | GroupSpec>,
  when?: When,
  dropWhenInapplicable = false,
): GroupSpec {
  return { kind: 'group', doc, fields, when, dropWhenInapplicable };
}
export function num(
  doc: string,
  def: NumberField['default'],
  opts: Omit<NumberField, 'kind' | 'type' | 'doc' | 'default'> = {},
): NumberField {
  return { kind: 'field', type: 'number', doc, default: def, ...opts };
}
export function bool(
  doc: string,
  def: BooleanField['default'],
  opts: Omit<BooleanField, 'kind' | 'type' | 'doc' | 'default'> = {},
): BooleanField {
  return { kind: 'field', type: 'boolean', doc, default: def, ...opts };
}
export function oneOf(
  doc: string,
  values: readonly string[],
  def: EnumField['default'],
  opts: Omit<EnumField, 'kind' | 'type' | 'doc' | 'default' | 'values'> = {},
): EnumField {
  return { kind: 'field', type: 'enum', doc, values, default: def, ...opts };
}
export function numList(
  doc: string,
  def: readonly number[],
  opts: Omit<NumberListField, 'kind' | 'type' | 'doc' | 'default'> = {},
): NumberListField {
  return { kind: 'field', type: 'number[]', doc, default: def, ...opts };
}
export function str(
  doc: string,
  def: string | null,
  opts: Omit<StringField, 'kind' | 'type' | 'doc' | 'default'> = {},
): StringField {
  return { kind: 'field', type: 'string', doc, default: def, ...opts };
}

function isPlain(v: unknown): v is Plain {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function describe(v: unknown): string {
  return typeof v === 'string' ? JSON.stringify(v) : Array.isArray(v) ? `[${v.join(', ')}]` : String(v);
}

// ---- "did you mean": the nearest valid keys and values to a mistyped one -----------------------

/** Optimal string alignment distance: insertions, deletions, substitutions and adjacent transpositions cost 1. */
export function editDistance(a: string, b: string): number {
  const m = a.length;
  const n = b.length;
  let prev2: number[] = [];
  let prev = Array.from({ length: n + 1 }, (_, j) => j);
  for (let i = 1; i <= m; i++) {
    const cur = [i];
    for (let j = 1; j <= n; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, prev2[j - 2] + 1);
      cur.push(d);
    }
    prev2 = prev;
    prev = cur;
  }
  return prev[n];
}

const normWord = (w: string): string => w.toLowerCase().replace(/[-_.]/g, '_');

/** Edit distance ignoring case, with `_`, `-` and `.` alike. */
function typoDistance(given: string, candidate: string): number {
  return editDistance(normWord(given), normWord(candidate));
}

/** How far a mistyped word may be from a suggestion: a third of its length, 1 to 3 edits. */
function typoLimit(word: string): number {
  return Math.min(3, Math.max(1, Math.floor(word.length / 3)));
}

/**
 * The candidates nearest to `given` (case-insensitive edit distance; `_`, `-` and `.` alike),
 * at most three and all equally near, when near enough to be a typo; [] otherwise.
 */
export function nearestWords(given: string, candidates: Iterable<string>): string[] {
  let best = Infinity;
  let out: string[] = [];
  for (const c of new Set(candidates)) {
    const d = typoDistance(given, c);
    if (d > typoLimit(given)) continue;
    if (d < best) {
      best = d;
      out = [c];
    } else if (d === best) out.push(c);
  }
  return out.length > 3 ? [] : out;
}

/** `a`, `a or b`, `a, b or c` */
function orList(words: readonly string[]): string {
  return words.length <= 1 ? (words[0] ?? '') : `${words.slice(0, -1).join(', ')} or ${words[words.length - 1]}`;
}

/** `; did you mean x?` for the nearest candidates, or '' when none is near. */
export function didYouMean(given: string, candidates: Iterable<string>): string {
  const near = nearestWords(given, candidates);
  return near.length > 0 ? `; did you mean ${orList(near)}?` : '';
}

/** Every dotted path below `spec` (`task.kind`, and with groups `task`), in schema order. */
function dottedPaths(
  spec: GroupSpec,
  withGroups: boolean,
  prefix = '',
): Array<{ path: string; spec: FieldSpec | GroupSpec }> {
  const out: Array<{ path: string; spec: FieldSpec | GroupSpec }> = [];
  for (const [key, f] of Object.entries(spec.fields)) {
    const p = join(prefix, key);
    if (f.kind === 'group') {
      if (withGroups) out.push({ path: p, spec: f });
      out.push(...dottedPaths(f, withGroups, p));
    } else out.push({ path: p, spec: f });
  }
  return out;
}

/** Whether the text of a --set value is one `f` accepts as it is (an enum value, a number for a number). */
function accepts(f: FieldSpec | GroupSpec, text: string): boolean {
  if (f.kind === 'group') return false;
  if (f.type === 'enum') return f.values.includes(text);
  return false;
}

/**
 * The dotted keys below `spec` nearest to the unknown `given` (relative to `spec`): the whole
 * path mistyped (`task.knd`: `task.kind`), or its last part given in the wrong group or none
 * (`n_states`: `device.n_states`). With `valueText`, fields that accept that value win ties
 * (`kind=mnist`: `task.kind`).
 */
export function nearestKeys(
  spec: GroupSpec,
  given: string,
  options: { withGroups?: boolean; valueText?: string } = {},
): string[] {
  const paths = dottedPaths(spec, options.withGroups ?? false);
  const leaf = given.slice(given.lastIndexOf('.') + 1);
  const scored: Array<{ path: string; score: number; spec: FieldSpec | GroupSpec }> = [];
  for (const { path, spec: f } of paths) {
    const d = typoDistance(given, path);
    const whole = d <= typoLimit(given) ? d : Infinity;
    const pathLeaf = path.slice(path.lastIndexOf('.') + 1);
    // the leaf in another group: a little further than a typo of the whole path
    const dl = typoDistance(leaf, pathLeaf);
    const inOther = dl <= typoLimit(leaf) ? dl + 0.5 : Infinity;
    const score = Math.min(whole, inOther);
    if (Number.isFinite(score)) scored.push({ path, score, spec: f });
  }
  if (scored.length === 0) return [];
  const best = Math.min(...scored.map((x) => x.score));
  let top = scored.filter((x) => x.score === best);
  if (options.valueText !== undefined) {
    const fitting = top.filter((x) => accepts(x.spec, options.valueText!));
    if (fitting.length > 0) top = fitting;
  }
  return top.length > 3 ? [] : top.map((x) => x.path);
}

function rangeText(f: NumberField): string {
  const parts: string[] = [];
  if (f.integer) parts.push('an integer');
  else parts.push('a number');
  if (f.gt !== undefined) parts.push(`> ${f.gt}`);
  if (f.min !== undefined) parts.push(`>= ${f.min}`);
  if (f.max !== undefined) parts.push(`<= ${f.max}`);
  return parts.join(' ');
}

function checkNumber(path: string, f: NumberField, v: unknown): number | null {
  if (v === null && f.nullable) return null;
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    throw new ConfigError(path, `expected ${rangeText(f)}, got ${describe(v)}`);
  }
  const bad =
    (f.integer && !Number.isInteger(v)) ||
    (f.gt !== undefined && !(v > f.gt)) ||
    (f.min !== undefined && v < f.min) ||
    (f.max !== undefined && v > f.max);
  if (bad) throw new ConfigError(path, `expected ${rangeText(f)}, got ${v}`);
  return v;
}

function checkField(path: string, f: FieldSpec, v: unknown): unknown {
  switch (f.type) {
    case 'number':
      return checkNumber(path, f, v);
    case 'boolean':
      if (typeof v !== 'boolean') throw new ConfigError(path, `expected true or false, got ${describe(v)}`);
      return v;
    case 'enum':
      if (v === null && f.nullable) return null;
      if (typeof v !== 'string' || !f.values.includes(v)) {
        throw new ConfigError(
          path,
          `expected one of ${f.values.join(', ')}, got ` +
            `${describe(v)}${typeof v === 'string' ? didYouMean(v, f.values) : ''}`,
        );
      }
      return v;
    case 'number[]': {
      if (!Array.isArray(v) || v.some((x) => typeof x !== 'number' || !Number.isFinite(x))) {
        throw new ConfigError(path, `expected a list of numbers, got ${describe(v)}`);
      }
      if (f.minLength !== undefined && v.length < f.minLength) {
        throw new ConfigError(path, `expected at least ${f.minLength} numbers, got ${v.length}`);
      }
      if (f.integer && v.some((x: number) => !Number.isInteger(x))) {
        throw new ConfigError(path, `every value must be an integer, got ${describe(v)}`);
      }
      if (f.min !== undefined && v.some((x: number) => x < f.min!)) {
        throw new ConfigError(path, `every value must be >= ${f.min}, got ${describe(v)}`);
      }
      return [...v];
    }
    case 'string':
      if (v === null && f.nullable) return null;
      if (typeof v !== 'string' || v === '')
        throw new ConfigError(path, `expected a non-empty string${f.nullable ? ' or null' : ''}, got ${describe(v)}`);
      return v;
  }
}

/**
 * Fills defaults and validates `input` against `spec`, returning a new object with exactly the
 * applicable fields. `root` is the object being built (so `when` and computed defaults can see
 * fields resolved earlier in schema order).
 */
export function resolveGroup(spec: GroupSpec, input: unknown, path: string, root: Plain, out: Plain): Plain {
  if (input !== undefined && !isPlain(input)) {
    throw new ConfigError(path, `expected a mapping of fields, got ${describe(input)}`);
  }
  const given: Plain = input ?? {};
  for (const key of Object.keys(given)) {
    if (!Object.hasOwn(spec.fields, key)) {
      const allowed = Object.keys(spec.fields).join(', ');
      const near = nearestKeys(spec, key, { withGroups: true }).map((k) => join(path, k));
      throw new ConfigError(
        join(path, key),
        `unknown field${near.length > 0 ? `; did you mean ${orList(near)}?` : ''} (allowed here: ${allowed})`,
      );
    }
  }
  for (const [key, f] of Object.entries(spec.fields)) {
    const p = join(path, key);
    const applies = f.when === undefined || f.when(root);
    if (!applies) {
      if (given[key] !== undefined && !(f.kind === 'group' && f.dropWhenInapplicable)) {
        const cond = f.kind === 'field' && f.whenDoc ? ` (only ${f.whenDoc})` : '';
        throw new ConfigError(p, `does not apply to this configuration${cond}`);
      }
      continue;
    }
    if (f.kind === 'group') {
      const sub: Plain = {};
      out[key] = sub;
      resolveGroup(f, given[key], p, root, sub);
      if (f.omitWhenEmpty === true && Object.keys(sub).length === 0) delete out[key];
      continue;
    }
    const v = given[key];
    const def = typeof f.default === 'function' ? f.default(root) : f.default;
    out[key] = v === undefined ? (Array.isArray(def) ? [...def] : def) : checkField(p, f, v);
    if (out[key] === null && !(f.type === 'number' || f.type === 'enum' || f.type === 'string' ? f.nullable : false)) {
      throw new ConfigError(p, 'is required');
    }
    const problem = f.check?.(out[key] as never, root);
    if (problem !== undefined) throw new ConfigError(p, problem);
    if (f.omitAtDefault === true && out[key] === def) delete out[key];
  }
  return out;
}

function join(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

/** Sets `obj[a][b][c] = value` for the dotted path `a.b.c`, creating groups on the way. */
export function setDotted(obj: Plain, dotted: string, value: unknown): void {
  const parts = dotted.split('.');
  if (parts.some((p) => p === '')) throw new ConfigError(dotted, 'malformed dotted key');
  let cur = obj;
  for (const p of parts.slice(0, -1)) {
    const next = cur[p];
    if (next === undefined) cur[p] = {};
    else if (!isPlain(next)) throw new ConfigError(dotted, `${p} is a value, not a group`);
    cur = cur[p] as Plain;
  }
  cur[parts[parts.length - 1]] = value;
}

/** Finds the field spec for a dotted path, or undefined. */
export function fieldAt(spec: GroupSpec, dotted: string): FieldSpec | GroupSpec | undefined {
  let cur: FieldSpec | GroupSpec = spec;
  for (const p of dotted.split('.')) {
    if (cur.kind !== 'group') return undefined;
    const next: FieldSpec | GroupSpec | undefined = Object.hasOwn(cur.fields, p) ? cur.fields[p] : undefined;
    if (next === undefined) return undefined;
    cur = next;
  }
  return cur;
}

/** Parses the text of `--set key=value` according to the field's type. */
export function parseValueFor(spec: GroupSpec, dotted: string, text: string): unknown {
  const f = fieldAt(spec, dotted);
  const t = text.trim();
  if (f === undefined) {
    const near = nearestKeys(spec, dotted, { valueText: t });
    throw new ConfigError(dotted, `unknown field${near.length > 0 ? `; did you mean ${orList(near)}?` : ''}`);
  }
  if (f.kind === 'group') {
    // `--set task=mnist`: the field of the group that takes the value (task.kind)
    const taking = dottedPaths(f, false, dotted).filter((x) => accepts(x.spec, t));
    const hint =
      taking.length > 0 && taking.length <= 3
        ? `did you mean ${orList(taking.map((x) => `${x.path}=${t}`))}?`
        : `its fields: ${dottedPaths(f, false, dotted)
            .map((x) => x.path)
            .slice(0, 8)
            .join(', ')}${dottedPaths(f, false, dotted).length > 8 ? ', ...' : ''}`;
    throw new ConfigError(dotted, `is a group; set one of its fields (${hint})`);
  }
  switch (f.type) {
    case 'number': {
      if (t === 'null' && f.nullable) return null;
      const v = Number(t);
      if (t === '' || !Number.isFinite(v))
        throw new ConfigError(dotted, `expected ${rangeText(f)}, got ${JSON.stringify(text)}`);
      return v;
    }
    case 'boolean':
      if (t === 'true') return true;
      if (t === 'false') return false;
      throw new ConfigError(dotted, `expected true or false, got ${JSON.stringify(text)}`);
    case 'enum':
      if (t === 'null' && f.nullable) return null;
      return t;
    case 'string':
      if (t === 'null' && f.nullable) return null;
      return t;
    case 'number[]': {
      const body = t.startsWith('[') && t.endsWith(']') ? t.slice(1, -1) : t;
      return body === ''
        ? []
        : body.split(',').map((s) => {
            const v = Number(s.trim());
            if (!Number.isFinite(v))
              throw new ConfigError(dotted, `expected a comma-separated list of numbers, got ${JSON.stringify(text)}`);
            return v;
          });
    }
  }
}

/** Markdown reference of a schema: one row per field with type/range, default and meaning. */
export function renderSchemaDoc(spec: GroupSpec, path = ''): string[] {
  const rows: string[] = [];
  for (const [key, f] of Object.entries(spec.fields)) {
    const p = join(path, key);
    if (f.kind === 'group') {
      rows.push(...renderSchemaDoc(f, p));
      continue;
    }
    let type: string;
    if (f.type === 'number') type = rangeText(f) + (f.nullable ? ' or null' : '');
    else if (f.type === 'enum') type = f.values.map((v) => `\`${v}\``).join(' \\| ');
    else if (f.type === 'boolean') type = 'boolean';
    else if (f.type === 'string') type = 'a string' + (f.nullable ? ' or null' : '');
    else type = f.integer ? 'list of integers' : 'list of numbers';
    const def = typeof f.default === 'function' ? 'see meaning' : `\`${JSON.stringify(f.default)}\``;
    const when = f.whenDoc ? ` *(${f.whenDoc})*` : '';
    rows.push(`| \`${p}\` | ${type} | ${def} | ${f.doc.replace(/\|/g, '\\|')}${when} |`);
  }
  return rows;
}
