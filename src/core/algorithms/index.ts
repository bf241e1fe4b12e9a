/** Registry of training algorithms by their RunConfig name. */
import type { AlgorithmName } from '../config/run-config.ts';
import { analogSgd } from './analog-sgd.ts';
import { sgd } from './sgd.ts';
import type { Algorithm } from './types.ts';

const REGISTRY: Readonly<Record<AlgorithmName, Algorithm>> = {
  sgd,
  'analog-sgd': analogSgd,
};

export function algorithmFor(name: AlgorithmName): Algorithm {
  return REGISTRY[name];
}
