/** Small shared helpers of the test suite. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { resolveRunConfig } from '../src/core/config/run-config.ts';
import type { DeviceParams } from '../src/core/devices/params.ts';

/** A fully resolved device from a partial `device` section (defaults filled, validated). */
export function deviceParams(device: Record<string, unknown>): DeviceParams {
  const d = resolveRunConfig({ device }).device;
  if (d === undefined) throw new Error('no device section');
  return d;
}

/** Every device-to-device spread and the cycle-to-cycle noise switched off. */
export const NO_VARIATION = {
  dw_min_std: 0,
  dw_min_dtod: 0,
  up_down_dtod: 0,
  w_max_dtod: 0,
  w_min_dtod: 0,
} as const;

export function mean(xs: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i];
  return s / xs.length;
}

export function variance(xs: ArrayLike<number>): number {
  const m = mean(xs);
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += (xs[i] - m) ** 2;
  return s / (xs.length - 1);
}

/** A small RFC 4180 reader (quoted fields, doubled quotes, CRLF) for checking the export. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') {
        quoted = false;
      } else {
        field += ch;
      }
    } else if (ch === '"') {
      quoted = true;
    } else if (ch === ',') {
      row.push(field);
      field = '';
    } else if (ch === '\r' && text[i + 1] === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      i++;
    } else {
      field += ch;
    }
  }
  assert.equal(field + row.join(''), '', 'ends with CRLF');
  return rows;
}

const MAIN = new URL('../src/cli/main.ts', import.meta.url).pathname;

export interface CliOutput {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI from source in a child process (tsx), resolving with its exit code and output. */
export function runCli(...args: string[]): Promise<CliOutput> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 60_000,
    });
    let stdout = '';
    let stderr = '';
    p.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    p.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    p.on('error', reject);
    p.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
