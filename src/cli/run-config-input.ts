/**
 * Builds a RunConfig from the CLI's inputs: an optional config file (JSON, or YAML: any file not
 * ending in .json), then `--set key=value` overrides (dotted keys, parsed by the schema's field
 * type). Errors name the file (with the line, for YAML) or the --set argument, the field and
 * what was expected.
 */
import { readFileSync, statSync } from 'node:fs';
import { LineCounter, parseDocument } from 'yaml';
import { RUN_SCHEMA, type RunConfig, resolveRunConfig } from '../core/config/run-config.ts';
import { ConfigError, type Plain, parseValueFor, setDotted } from '../core/config/schema.ts';
import { UsageError } from './errors.ts';

/** A run config is a few KB; a larger file is refused unread. */
const MAX_CONFIG_BYTES = 1024 * 1024;

interface ConfigFile {
  raw: Plain;
  /** the line of a dotted key in the file (YAML), or of its nearest enclosing key */
  lineOf?: (dotted: string) => number | undefined;
}

function readText(file: string): string {
  try {
    const st = statSync(file);
    if (st.isFile() && st.size > MAX_CONFIG_BYTES)
      throw new UsageError(`${file}: ${st.size} bytes, more than the 1 MiB a run config file may have`);
    return readFileSync(file, 'utf8');
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(`${file}: cannot read config file (${(e as Error).message})`);
  }
}

function mappingOrThrow(file: string, value: unknown, expected: string): Plain {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new UsageError(`${file}: ${expected}`);
  return value as Plain;
}

function readJsonConfig(file: string, text: string): ConfigFile {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`${file}: not valid JSON (${(e as Error).message})`);
  }
  return { raw: mappingOrThrow(file, value, 'expected a JSON object with run config fields') };
}

function readYamlConfig(file: string, text: string): ConfigFile {
  const counter = new LineCounter();
  const doc = parseDocument(text, { lineCounter: counter, uniqueKeys: true, prettyErrors: false });
  if (doc.errors.length > 0) {
    const e = doc.errors[0];
    const line = e.linePos?.[0]?.line ?? counter.linePos(e.pos[0]).line;
    throw new UsageError(`${file}:${line}: invalid YAML: ${e.message.split('\n')[0]}`);
  }
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 100 });
  } catch (e) {
    throw new UsageError(`${file}: invalid YAML: ${(e instanceof Error ? e.message : String(e)).split('\n')[0]}`);
  }
  const raw = mappingOrThrow(file, value, 'expected a YAML mapping of run config fields');
  const lineOf = (dotted: string): number | undefined => {
    const parts = dotted.split('.');
    for (let n = parts.length; n > 0; n--) {
      const node = doc.getIn(parts.slice(0, n), true) as { range?: [number, number, number] } | undefined;
      if (node?.range) return counter.linePos(node.range[0]).line;
      // a missing or unknown key: the line of the key itself, when its mapping has it
      const parent = n > 1 ? doc.getIn(parts.slice(0, n - 1), true) : doc.contents;
      const pair = (
        parent as { items?: Array<{ key?: { value?: unknown; range?: [number, number, number] } }> } | null
      )?.items?.find((p) => p.key?.value === parts[n - 1]);
      if (pair?.key?.range) return counter.linePos(pair.key.range[0]).line;
    }
    return undefined;
  };
  return { raw, lineOf };
}

function readConfigFile(file: string): ConfigFile {
  const text = readText(file);
  return file.toLowerCase().endsWith('.json') ? readJsonConfig(file, text) : readYamlConfig(file, text);
}

export function runConfigFromCli(configFile: string | undefined, sets: readonly string[]): RunConfig {
  const input: ConfigFile = configFile ? readConfigFile(configFile) : { raw: {} };
  const raw = input.raw;
  const setArgs: Array<{ key: string; arg: string }> = [];
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
    setArgs.push({ key, arg });
  }
  try {
    return resolveRunConfig(raw);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    // the --set that gave the value (the last one of that key), else the file and its line
    const set = [...setArgs].reverse().find(({ key }) => e.path === key || e.path.startsWith(`${key}.`));
    if (set !== undefined) throw new UsageError(`--set ${set.arg}: ${e.message}`);
    if (!configFile) throw new UsageError(`command line: ${e.message}`);
    const line =
      e.path === '' || setArgs.some(({ key }) => key.startsWith(`${e.path}.`)) ? undefined : input.lineOf?.(e.path);
    throw new UsageError(`${configFile}${line === undefined ? '' : `:${line}`}: ${e.message}`);
  }
}
