/**
 * The one classification of the errors that end a command or refuse a request.
 *
 * - InputError: bad input the user can fix (a file, a field, an option, a request, a database
 *   that cannot be used as asked). Its message names what is wrong and is printed as it is.
 *   Every layer's input errors extend it (ConfigError, SweepError, StoreError, ReportError,
 *   QueryError, DataError, UsageError), so this module imports nothing: the core, the sweep,
 *   store, report and data layers import it without importing the CLI (and without I/O).
 * - everything else: a runtime failure (a full disk, a diverged run) or a bug.
 *
 * The maps derived from it: `exitCodeOf` (the CLI's exit code, src/cli/main.ts) and
 * `statusCodeOf` in src/rpc/status.ts (the gRPC status a handler failure is answered with).
 */

/** Bad input the user can fix: exit code 2 (`exitCodeOf`), INVALID_ARGUMENT over gRPC. */
export class InputError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'InputError';
  }
}

/** Exit code of bad usage or input (docs/architecture.md, "CLI contract"). */
export const EXIT_INPUT = 2;
/** Exit code of a runtime failure or a bug. */
export const EXIT_FAILURE = 1;

export function isInputError(e: unknown): e is InputError {
  return e instanceof InputError;
}

/** The exit code of a command that ends with `e`: 2 for bad input, 1 for anything else. */
export function exitCodeOf(e: unknown): typeof EXIT_INPUT | typeof EXIT_FAILURE {
  return isInputError(e) ? EXIT_INPUT : EXIT_FAILURE;
}
