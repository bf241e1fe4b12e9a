/**
 * A small declarative schema for nested configuration objects: every field has a type, a
 * default, a range and a doc string, and may apply only when another field has some value
 * (e.g. `device.gamma_res` only for `device.kind: pow | exp`). One schema drives validation,
 * defaulting (the canonical config), `--set key=value` parsing and docs/config.md.
 */

export class ConfigError extends Error {
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

export function group(doc: string, fields: Record<string, FieldSpec | GroupSpec>, when?: When, dropWhenInapplicable = false): GroupSpec {
  return { kind: 'group', doc, fields, when, dropWhenInapplicable };
}
export function num(doc: string, def: NumberField['default'], opts: Omit<NumberField, 'kind' | 'type' | 'doc' | 'default'> = {}): NumberField {
  return { kind: 'field', type: 'number', doc, default: def, ...opts };
}
export function bool(doc: string, def: BooleanField['default'], opts: Omit<BooleanField, 'kind' | 'type' | 'doc' | 'default'> = {}): BooleanField {
  return { kind: 'field', type: 'boolean', doc, default: def, ...opts };
}
export function oneOf(doc: string, values: readonly string[], def: EnumField['default'], opts: Omit<EnumField, 'kind' | 'type' | 'doc' | 'default' | 'values'> = {}): EnumField {
  return { kind: 'field', type: 'enum', doc, values, default: def, ...opts };
}
export function numList(doc: string, def: readonly number[], opts: Omit<NumberListField, 'kind' | 'type' | 'doc' | 'default'> = {}): NumberListField {
  return { kind: 'field', type: 'number[]', doc, default: def, ...opts };
}
export function str(doc: string, def: string | null, opts: Omit<StringField, 'kind' | 'type' | 'doc' | 'default'> = {}): StringField {
  return { kind: 'field', type: 'string', doc, default: def, ...opts };
}

function isPlain(v: unknown): v is Plain {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function describe(v: unknown): string {
  return typeof v === 'string' ? JSON.stringify(v) : Array.isArray(v) ? `[${v.join(', ')}]` : String(v);
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
        throw new ConfigError(path, `expected one of ${f.values.join(', ')}, got ${describe(v)}`);
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
      if (typeof v !== 'string' || v === '') throw new ConfigError(path, `expected a non-empty string${f.nullable ? ' or null' : ''}, got ${describe(v)}`);
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
      throw new ConfigError(join(path, key), `unknown field (allowed here: ${allowed})`);
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
  if (f === undefined) throw new ConfigError(dotted, 'unknown field');
  if (f.kind === 'group') throw new ConfigError(dotted, 'is a group; set one of its fields');
  const t = text.trim();
  switch (f.type) {
    case 'number': {
      if (t === 'null' && f.nullable) return null;
      const v = Number(t);
      if (t === '' || !Number.isFinite(v)) throw new ConfigError(dotted, `expected ${rangeText(f)}, got ${JSON.stringify(text)}`);
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
      return body === '' ? [] : body.split(',').map((s) => {
        const v = Number(s.trim());
        if (!Number.isFinite(v)) throw new ConfigError(dotted, `expected a comma-separated list of numbers, got ${JSON.stringify(text)}`);
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
