/**
 * Checks of a run's transfer schedule before it runs (docs/config.md, "Schedule diagnostics"):
 *   (a) every slow array of every analog layer receives at least MIN_TRANSFERS_PER_COLUMN
 *       transfers per column over the run (from epochs, training-set size, batch, patches,
 *       period and columns: the algorithms' own clocks, `transferClocks`);
 *   (b) `lr` (or its schedule) is swept where it cannot reach the analog arrays (a transfer
 *       algorithm with scale_fast_lr and scale_transfer_lr both false);
 *   (c) the cascade of multi-tile residual learning is linearly unstable (cascade-stability.ts),
 *       on least squares, whose per-element curvature is known (1 per sample: E[a a^T] = I, or
 *       the scalar toy's input 1). A classification loss has no such constant: not checked.
 * Each check returns the problem in words, or nothing. Pure: the caller supplies the data shape.
 */
import { algorithmFor } from '../core/algorithms/index.ts';
import { residualSchedule } from '../core/algorithms/residual.ts';
import { fastLr } from '../core/algorithms/transfer-schedule.ts';
import type { TransferClock } from '../core/algorithms/types.ts';
import { TRANSFER_ALGORITHMS } from '../core/config/algorithm-schema.ts';
import type { RunConfig } from '../core/config/run-config.ts';
import { planNetwork, weightLayers } from '../core/models/index.ts';
import { cascadeStability } from './cascade-stability.ts';

/** Fewer transfers per column than this over a run leave a slow array close to where it started. */
export const MIN_TRANSFERS_PER_COLUMN = 10;

/** What the checks need of a classification dataset. */
export interface DataShape {
  /** training images */
  train: number;
  channels: number;
  height: number;
  width: number;
  classes: number;
}

interface AnalogLayer {
  /** prefix of its arrays in pulse counts ('' for the least-squares matrix) */
  prefix: string;
  cols: number;
  /** vectors per sample (conv patches) */
  patches: number;
}

function analogLayers(config: RunConfig, data: DataShape | null): AnalogLayer[] {
  if (config.task.kind === 'least-squares') {
    const cols = config.task.form === 'scalar' ? 1 : (config.task.in_size ?? 1);
    return [{ prefix: '', cols, patches: 1 }];
  }
  if (config.model === undefined || data === null) return [];
  return weightLayers(planNetwork(config.model, config.algorithm, data, data.classes))
    .filter((l) => !l.digital)
    .map((l) => ({ prefix: `${l.name}/`, cols: l.cols, patches: l.patches }));
}

/** Training samples per epoch. */
function samplesPerEpoch(config: RunConfig, data: DataShape | null): number {
  return config.task.kind === 'least-squares' ? config.task.n_samples : (data?.train ?? 0);
}

const fmt = (v: number): string =>
  v >= 100 ? v.toFixed(0) : +v.toPrecision(2) === 0 ? '0' : String(+v.toPrecision(2));

/** (a): the slow arrays that receive too few transfers per column over the run, in one message. */
export function sparseTransferWarning(config: RunConfig, data: DataShape | null): string | undefined {
  const few: string[] = [];
  const samples = samplesPerEpoch(config, data);
  for (const layer of analogLayers(config, data)) {
    const clocks: TransferClock[] = algorithmFor(config.algorithm).transferClocks(config, {
      cols: layer.cols,
      vectorsPerBatch: config.batch_size * layer.patches,
    });
    for (const c of clocks) {
      const transfers = Math.floor((config.epochs * samples * layer.patches) / c.period);
      const perColumn = (transfers * c.columns) / layer.cols;
      if (perColumn < MIN_TRANSFERS_PER_COLUMN)
        few.push(
          `${layer.prefix}${c.array} ${fmt(perColumn)} (one every ${c.period} vector updates, ${layer.cols} columns)`,
        );
    }
  }
  if (few.length === 0) return undefined;
  const warm = config.warm_start ? ' (warm-start transfers not counted)' : '';
  return (
    `fewer than ${MIN_TRANSFERS_PER_COLUMN} transfers per column over the run${warm}: ${few.join(', ')}; ` +
    'each weight of these arrays is written that seldom, so they can move little from where they start: ' +
    'transfer more often (transfer_every) or train longer'
  );
}

/** (b): why a swept `lr` cannot change the analog arrays of this run, if it cannot. */
export function inertLrWarning(config: RunConfig): string | undefined {
  if (!TRANSFER_ALGORITHMS.includes(config.algorithm) || config.scale_fast_lr || config.scale_transfer_lr)
    return undefined;
  const digital =
    config.task.kind === 'least-squares'
      ? 'nothing at all (least squares has no digital parameters)'
      : 'only the digital biases and digital layers';
  return (
    `lr is swept but cannot change the analog arrays of ${config.algorithm} (scale_fast_lr and scale_transfer_lr ` +
    `are false): it changes ${digital}`
  );
}

/** (c): the spectral radius of the linearised residual cascade, when above 1 (least squares only). */
export function unstableCascadeWarning(config: RunConfig): string | undefined {
  if (config.algorithm !== 'residual' || config.task.kind !== 'least-squares') return undefined;
  const tiles = config.n_tiles ?? 3;
  if (tiles < 2) return undefined;
  const cols = config.task.form === 'scalar' ? 1 : (config.task.in_size ?? 1);
  const batch = config.batch_size;
  const { periods, lrs } = residualSchedule(config, batch);
  const scale = config.scale_transfer_lr ? config.lr : 1;
  let result;
  try {
    result = cascadeStability({
      gamma: config.tile_gamma ?? 0.5,
      tiles,
      // d = error / batch per sample, E[a a^T] = I: the gradient tile moves fast_lr / batch per vector update
      gain: fastLr(config, config.lr) / batch,
      // an element of column 0 is transferred every period * cols updates, first after one period
      transfers: periods.map((p, j) => ({ lr: lrs[j] * scale, period: p * cols, offset: p })),
    });
  } catch (e) {
    if (e instanceof RangeError) return undefined; // a hyper-period too long to build: not checked
    throw e;
  }
  if (!(result.radius > 1)) return undefined;
  return (
    `the residual cascade is linearly unstable: spectral radius ${result.radius.toPrecision(4)} per slowest ` +
    `transfer period (${result.period} vector updates) ` +
    'of its expected dynamics; separate the clocks more (transfer_every_growth), lower transfer_lr or raise ' +
    'fast_lr and tile_gamma'
  );
}

/** (a) and (c) for one run. */
export function runScheduleWarnings(config: RunConfig, data: DataShape | null): string[] {
  return [sparseTransferWarning(config, data), unstableCascadeWarning(config)].filter(
    (w): w is string => w !== undefined,
  );
}
