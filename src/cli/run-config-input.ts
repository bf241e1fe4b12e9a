/**
 * Builds a RunConfig from the CLI's inputs: an optional JSON file, then `--set key=value`
 * overrides (dotted keys, parsed by the schema's field type). Errors name the file or the
 * --set argument, the field and what was expected.
 */
import { readFileSync } from 'node:fs';
import { RUN_SCHEMA, type RunConfig, resolveRunConfig } from '../core/config/run-config.ts';
import { ConfigError, type Plain, parseValueFor, setDotted } from '../core/config/schema.ts';
import { UsageError } from './errors.ts';

function readJsonConfig(file: string): Plain {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError(`${file}: cannot read config file (${(e as Error).message})`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`${file}: not valid JSON (${(e as Error).message})`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new UsageError(`${file}: expected a JSON object with run config fields`);
  }
  return value as Plain;
}

export function runConfigFromCli(configFile: string | undefined, sets: readonly string[]): RunConfig {
  const raw: Plain = configFile ? readJsonConfig(configFile) : {};
  for (const arg of sets) {
    const eq = arg.indexOf('=');
    if (eq <= 0) throw new UsageError(`--set ${arg}: expected key=value (e.g. --set device.n_states=16)`);
    const key = arg.slice(0, eq).trim();
    try {
      setDotted(raw, key, parseValueFor(RUN_SCHEMA, key, arg.slice(eq + 1)));
    } catch (e) {
      if (e instanceof ConfigError) throw new UsageError(`--set ${arg}: ${e.message}`);
      throw e;
    }
  }
  try {
    return resolveRunConfig(raw);
  } catch (e) {
    if (e instanceof ConfigError) throw new UsageError(`${configFile ?? 'command line'}: ${e.message}`);
    throw e;
  }
}
