/**
 * The values of dotted run config keys as tables and plots see them: how a value is shown, an
 * exact identity to group runs by, the order values and tuples of values are laid out in, and
 * which keys the runs of one cell (or line, or point) differ in.
 *
 * Values are ordered by first appearance in the sweep's expansion, numbers numerically, a key
 * absent from a run's config (a field that does not apply, e.g. `n_tiles` for `sgd`) as `-`
 * after every value.
 */
import type { KeyValue } from '../core/config/resolved-value.ts';
import { canonicalJson } from '../sweep/canonical.ts';

/** How a value is shown: numbers and strings as they are, `-` when absent, JSON otherwise. */
export function valueText(v: KeyValue): string {
  if (!v.present) return '-';
  if (typeof v.value === 'string') return v.value;
  if (typeof v.value === 'number' || typeof v.value === 'boolean') return String(v.value);
  return canonicalJson(v.value);
}

/** The identity of an absent value: distinct from that of every value. */
const ABSENT_ID = '\u0000absent';

/** A string that tells values apart exactly (absent distinct from every value), to group runs by. */
export function valueId(v: KeyValue): string {
  return v.present ? canonicalJson(v.value) : ABSENT_ID;
}

/** The identity of a tuple of values (one per key). */
export function tupleId(values: readonly KeyValue[]): string {
  return values.map(valueId).join('\u0001');
}

/** `k1=v1, k2=v2`: a row's, a column's or a cell's keys with their value texts. */
export function keyValuesText(keys: readonly string[], labels: readonly string[]): string {
  return keys.map((k, i) => `${k}=${labels[i]}`).join(', ');
}

/** Whether key `a` is key `b`, lies inside it, or contains it (then naming both is naming one twice). */
export function keysOverlap(a: string, b: string): boolean {
  return a === b || a.startsWith(`${b}.`) || b.startsWith(`${a}.`);
}

/** The first pair of keys (indices, in order) that overlap; null when none does. */
export function firstOverlap(keys: readonly string[]): [number, number] | null {
  for (let i = 0; i < keys.length; i++) {
    for (let j = i + 1; j < keys.length; j++) if (keysOverlap(keys[i], keys[j])) return [i, j];
  }
  return null;
}

/** The leaves of a config as dotted keys (arrays are leaves). */
export function flattenConfig(config: unknown, prefix = '', out = new Map<string, unknown>()): Map<string, unknown> {
  if (typeof config === 'object' && config !== null && !Array.isArray(config)) {
    const entries = Object.entries(config as Record<string, unknown>);
    if (entries.length === 0 && prefix) out.set(prefix, config);
    for (const [k, v] of entries) if (v !== undefined) flattenConfig(v, prefix ? `${prefix}.${k}` : k, out);
  } else if (prefix) {
    out.set(prefix, config);
  }
  return out;
}

/** A rank per distinct value of one key: numbers numerically, others by first appearance, absent last. */
function valueRanks(values: readonly KeyValue[]): Map<string, number> {
  const firsts = new Map<string, KeyValue>();
  for (const v of values) if (!firsts.has(valueId(v))) firsts.set(valueId(v), v);
  const present = [...firsts.values()].filter((v) => v.present);
  const numeric = present.length > 0 && present.every((v) => typeof v.value === 'number');
  if (numeric) present.sort((a, b) => (a.value as number) - (b.value as number));
  const ranks = new Map<string, number>();
  present.forEach((v, i) => ranks.set(valueId(v), i));
  ranks.set(ABSENT_ID, present.length);
  return ranks;
}

/**
 * The distinct tuples among `tuples` (one per run, the values of the same keys), in the order
 * tables and plots lay them out: each key's values ranked as valueRanks ranks them, the tuples
 * lexicographically by those ranks.
 */
export function orderedTuples(tuples: readonly (readonly KeyValue[])[]): { id: string; values: KeyValue[] }[] {
  const width = tuples.length ? tuples[0].length : 0;
  const ranks = Array.from({ length: width }, (_, i) => valueRanks(tuples.map((t) => t[i])));
  const seen = new Map<string, { values: KeyValue[]; rank: number[] }>();
  for (const t of tuples) {
    const id = tupleId(t);
    if (!seen.has(id)) seen.set(id, { values: [...t], rank: t.map((x, i) => ranks[i].get(valueId(x)) as number) });
  }
  return [...seen.entries()]
    .sort(([, a], [, b]) => {
      for (let i = 0; i < a.rank.length; i++) if (a.rank[i] !== b.rank[i]) return a.rank[i] - b.rank[i];
      return 0;
    })
    .map(([id, t]) => ({ id, values: t.values }));
}

/** A key in which runs that are averaged together differ, with the value texts seen. */
export interface MixedKey {
  key: string;
  values: string[];
}

/**
 * The keys (sorted) in which `configs` differ, leaving out the keys that overlap one of
 * `excluded` (the seed, the keys the layout shows); none for fewer than two configs.
 */
export function differingKeys(configs: readonly unknown[], excluded: readonly string[]): MixedKey[] {
  if (configs.length < 2) return [];
  const flat = configs.map((c) => flattenConfig(c));
  const keys = new Set<string>();
  for (const f of flat) for (const k of f.keys()) keys.add(k);
  const mixed: MixedKey[] = [];
  for (const key of [...keys].sort()) {
    if (excluded.some((e) => keysOverlap(e, key))) continue;
    const seen = new Map<string, string>();
    for (const f of flat) {
      const v: KeyValue = f.has(key) ? { present: true, value: f.get(key) } : { present: false, value: undefined };
      if (!seen.has(valueId(v))) seen.set(valueId(v), valueText(v));
    }
    if (seen.size > 1) mixed.push({ key, values: [...seen.values()] });
  }
  return mixed;
}

/** `a, b and 3 more`: the first `limit` items joined by `separator`, the number of the rest after them. */
export function listWithMore(items: readonly string[], limit: number, separator: string, more = ''): string {
  if (items.length <= limit) return items.join(separator);
  return `${items.slice(0, limit).join(separator)} and ${items.length - limit} more${more}`;
}

/**
 * The warning about `count` cells, lines or points (`unit`) whose runs differ in more than the
 * seed: `what` names the keys and values, `where` lists them, `fix` says which options can show
 * the keys (`--rows or --cols`).
 */
export function mixedWarning(
  count: number,
  unit: string,
  what: string,
  where: string,
  nKeys: number,
  fix: string,
): string {
  const units = `${count} ${unit}${count === 1 ? '' : 's'}`;
  const add = `add ${nKeys === 1 ? 'it' : 'them'} to ${fix}`;
  return `${units} average over runs that differ in ${what}, not only in seed: ${where}; ${add}`;
}
