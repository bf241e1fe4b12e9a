/** A run whose loss became non-finite: a result of the science (lr too high, ...), not a bug. */
export class DivergedError extends Error {
  readonly epoch: number;

  constructor(epoch: number, what: string) {
    super(`training diverged at epoch ${epoch}: ${what}`);
    this.name = 'DivergedError';
    this.epoch = epoch;
  }
}
