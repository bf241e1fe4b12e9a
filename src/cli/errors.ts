/**
 * The CLI's errors: UsageError (bad usage: an option, an argument), and how a command that
 * failed ends: its one line (`failureLine`) and its exit code (`exitCodeOf` of src/errors.ts, the
 * one map: bad input, an InputError of any layer, exits 2; anything else 1).
 */
import { DivergedError } from '../core/tasks/diverged.ts';
import { exitCodeOf, InputError, isInputError } from '../errors.ts';
import { StoreFailure } from '../store/errors.ts';
import { DEFAULT_MAX_RUNS } from '../sweep/expand.ts';

export { exitCodeOf, isInputError };

/** Bad usage: an option or argument the user can fix; exit code 2. */
export class UsageError extends InputError {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/**
 * What a command that ends with `e` prints (after `aimc-sweep: `), by its kind: bad input its
 * message (the file, field and expectation); a failure of the environment (a full disk) its
 * message, which says what to do; a diverged run its message and a hint; anything else, a bug or
 * an unexpected failure, its first line and where the trace is, or with `debug` its trace.
 * Bad input also gets its trace with `debug`.
 */
export function failureLine(e: unknown, debug: boolean): string {
  if (isInputError(e)) return debug && e.stack ? `${e.message}\n${e.stack}` : e.message;
  if (e instanceof DivergedError) return `${e.message} (a smaller lr may help)`;
  if (e instanceof StoreFailure) return e.message;
  return unexpectedFailureLine(e, debug);
}

/** The line of an error that is not the user's input: its first line, or its trace with `debug`. */
export function unexpectedFailureLine(e: unknown, debug: boolean): string {
  if (debug) return e instanceof Error ? (e.stack ?? e.message) : String(e);
  const message = e instanceof Error ? e.message : String(e);
  const firstLine = message.split('\n')[0] || (e instanceof Error ? e.name : 'error');
  return `${firstLine} (run with --debug for the trace)`;
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
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1)
    throw new UsageError(`--max-runs: expected a positive integer, got ${String(value)}`);
  return value;
}
