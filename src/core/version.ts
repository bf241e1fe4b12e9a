/**
 * Version of the core's numerics. Bump it whenever a change can alter any number a run
 * produces (RNG, device formulas, update order, defaults): it is part of every run's identity,
 * so results computed by older numerics are never mistaken for current ones.
 */
export const NUMERICS_VERSION = 3;
