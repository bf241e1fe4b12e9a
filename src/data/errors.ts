/** A dataset that cannot be loaded: a missing or malformed file, or sizes it cannot give. */
export class DataError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DataError';
  }
}
