import { InputError } from '../errors.ts';

/** A dataset that cannot be loaded: a missing or malformed file, or sizes it cannot give. */
export class DataError extends InputError {
  constructor(message: string) {
    super(message);
    this.name = 'DataError';
  }
}
