/**
 * A leased run's config as a worker receives it (canonical JSON from the coordinator): parsed,
 * validated against the schema and checked against its run hash, so a garbled config or a
 * worker whose numerics differ from the coordinator's fails loudly instead of computing
 * something else under the run's name.
 */
import { type RunConfig, resolveRunConfig } from '../core/config/run-config.ts';
import { ConfigError } from '../core/config/schema.ts';
import { canonicalJson, runHash } from '../sweep/canonical.ts';

export function parseLeasedConfig(hash: string, configJson: string): RunConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(configJson);
  } catch (e) {
    throw new Error(`run ${hash.slice(0, 12)}: config is not JSON (${(e as Error).message})`);
  }
  let config: RunConfig;
  try {
    config = resolveRunConfig(raw);
  } catch (e) {
    if (e instanceof ConfigError) throw new Error(`run ${hash.slice(0, 12)}: invalid config: ${e.message}`);
    throw e;
  }
  if (runHash(config) !== hash) {
    const why =
      canonicalJson(config) === canonicalJson(raw)
        ? 'this worker computes another hash (different numerics version?)'
        : 'the config is not canonical';
    throw new Error(`run ${hash.slice(0, 12)}: config does not match its run hash: ${why}`);
  }
  return config;
}
