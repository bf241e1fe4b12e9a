/**
 * Canonical form and identity of a run: the fully defaulted RunConfig serialised with sorted keys
 * (numbers as JSON writes them, -0 as 0), and its SHA-256 together with the core's numerics
 * version. Key order, defaults left implicit or given explicitly, and the spelling of a device
 * (n_states vs dw_min, a preset vs its fields) never change the hash; any changed value does.
 */
import { createHash } from 'node:crypto';
import type { RunConfig } from '../core/config/run-config.ts';
import { NUMERICS_VERSION } from '../core/version.ts';

export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number') {
      if (!Number.isFinite(value)) throw new Error(`canonicalJson: non-finite number ${value}`);
      return Object.is(value, -0) ? '0' : JSON.stringify(value);
    }
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj)
    .filter((k) => obj[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`).join(',')}}`;
}

/** The run key: hex SHA-256 of the numerics version and the canonical config. */
export function runHash(config: RunConfig): string {
  return runHashOfCanonical(canonicalJson(config));
}

/** runHash of a config given as its canonical JSON (`canonicalJson(config)`). */
export function runHashOfCanonical(canonical: string): string {
  return createHash('sha256').update(`aimc-sweep numerics ${NUMERICS_VERSION}\n`).update(canonical).digest('hex');
}
