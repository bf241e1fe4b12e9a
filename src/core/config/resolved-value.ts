/**
 * The value a run config holds at a dotted key, as resolved: what sweep `exclude` entries match
 * and what tables and plots group by. A field canonical configs leave out at its default (schema
 * `omitAtDefault`) reads as that default wherever its group is present and the field applies
 * (its `when` holds on the config: `task.source` is absent from a fashion-mnist run), and so
 * does a field of a section left out while empty (schema `omitWhenEmpty`: `cost.pulse_ns`).
 */
import { RUN_SCHEMA } from './run-config.ts';
import { fieldAt } from './schema.ts';

export interface KeyValue {
  present: boolean;
  value: unknown;
}

const absent = (): KeyValue => ({ present: false, value: undefined });

/** The resolved value of a dotted key in a (canonical) config; `present: false` when the key is absent. */
export function resolvedValueAt(config: unknown, dotted: string): KeyValue {
  let cur: unknown = config;
  const parts = dotted.split('.');
  for (const [i, p] of parts.entries()) {
    if (typeof cur !== 'object' || cur === null || Array.isArray(cur)) return absent();
    if (!Object.hasOwn(cur, p))
      return omittedGroups(parts, i) ? omittedDefault(config as Record<string, unknown>, dotted) : absent();
    cur = (cur as Record<string, unknown>)[p];
  }
  return cur === undefined ? absent() : { present: true, value: cur };
}

/**
 * Whether every group from parts[0..from] down to the field's own is one the canonical config leaves out while empty.
 */
function omittedGroups(parts: readonly string[], from: number): boolean {
  for (let j = from; j < parts.length - 1; j++) {
    const g = fieldAt(RUN_SCHEMA, parts.slice(0, j + 1).join('.'));
    if (g === undefined || g.kind !== 'group' || g.omitWhenEmpty !== true) return false;
  }
  return true;
}

function omittedDefault(config: Record<string, unknown>, dotted: string): KeyValue {
  const f = fieldAt(RUN_SCHEMA, dotted);
  if (f === undefined || f.kind !== 'field' || f.omitAtDefault !== true || typeof f.default === 'function')
    return absent();
  if (f.when !== undefined && !f.when(config)) return absent();
  return { present: true, value: f.default };
}
