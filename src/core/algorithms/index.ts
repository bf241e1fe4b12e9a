/** Registry of training algorithms by their RunConfig name. */
import type { AlgorithmName } from '../config/run-config.ts';
import { agad } from './agad.ts';
import { analogSgd } from './analog-sgd.ts';
import { choppedTtv2 } from './c-ttv2.ts';
import { mixedPrecision } from './mixed-precision.ts';
import { residual } from './residual.ts';
import { rlv2 } from './rlv2.ts';
import { sgd } from './sgd.ts';
import { tikiTaka } from './tiki-taka.ts';
import { ttv2 } from './ttv2.ts';
import type { Algorithm } from './types.ts';

const REGISTRY: Readonly<Record<AlgorithmName, Algorithm>> = {
  sgd,
  'analog-sgd': analogSgd,
  'tiki-taka': tikiTaka,
  ttv2,
  'c-ttv2': choppedTtv2,
  agad,
  mp: mixedPrecision,
  rlv2,
  residual,
};

export function algorithmFor(name: AlgorithmName): Algorithm {
  return REGISTRY[name];
}
