/** Errors the CLI maps to exit code 2 (bad usage or invalid input); anything else exits 1. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}
