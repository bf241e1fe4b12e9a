/** The error of the reporting side: a request the reader can fix. */
import { InputError } from '../errors.ts';

/**
 * A bad request to a table, plot or report (an unknown key, metric or statistic, keys that
 * overlap, a metric no run records, a recorded definition that cannot be read); exit code 2.
 */
export class ReportError extends InputError {
  constructor(message: string) {
    super(message);
    this.name = 'ReportError';
  }
}
