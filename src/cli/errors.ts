/** Errors the CLI maps to exit code 2 (bad usage or invalid input); anything else exits 1. */
import { ConfigError } from '../core/config/schema.ts';
import { ReportError } from '../report/pivot.ts';
import { StoreError } from '../store/open.ts';
import { QueryError } from '../store/results-read.ts';
import { DEFAULT_MAX_RUNS } from '../sweep/expand.ts';
import { SweepError } from '../sweep/spec.ts';

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/**
 * Whether `e` reports bad input (a file, field or request the user can fix): printed as its
 * message with exit code 2, where other errors are bugs or runtime failures (stack, exit 1).
 */
export function isInputError(e: unknown): e is Error {
  return (
    e instanceof UsageError || e instanceof SweepError || e instanceof StoreError || e instanceof ConfigError || e instanceof ReportError || e instanceof QueryError
  );
}

/** `--max-runs N` of the commands that expand a sweep (expand, submit; run: see src/sweep/expand.ts). */
export const MAX_RUNS_OPTION = {
  'max-runs': {
    type: 'number',
    default: DEFAULT_MAX_RUNS,
    describe: 'refuse a sweep of more combinations than this, before expanding it',
  },
} as const;

/** The value of --max-runs, checked: a positive integer. */
export function maxRunsFrom(value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) throw new UsageError(`--max-runs: expected a positive integer, got ${String(value)}`);
  return value;
}
