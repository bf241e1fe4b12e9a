/**
 * A line of a plot over its runs (pure): the centre and spread of the runs' values at a point
 * (mean ± std, or the median and range), and the learning curve of a line over epochs, drawn as
 * window means when it has more than SMOOTH_ABOVE epochs.
 */
import type { Metric } from '../core/tasks/run-result.ts';
import type { EpochRow } from '../store/results-read.ts';
import type { Stat } from '../sweep/view.ts';
import { meanStd, summarize } from './stats.ts';

/** Learning curves with more epochs than this are drawn as means over windows of epochs. */
export const SMOOTH_ABOVE = 120;
/** about this many windows per smoothed curve */
export const SMOOTH_WINDOWS = 60;

/** The centre and spread of a point: `y` with ±`std`, or with `bounds` (the range over the runs). */
export interface Spread {
  y: number;
  std: number | null;
  bounds?: [number, number];
}

/**
 * The centre and spread of a point over its runs: mean ± std, or the median with the range
 * (bounds) from the lowest to the highest value when there are two or more.
 */
export function centre(xs: readonly number[], stat: Stat): Spread {
  if (stat === 'mean') {
    const { mean, std } = meanStd(xs);
    return { y: mean, std };
  }
  const s = summarize(xs);
  return xs.length >= 2 ? { y: s.median, std: null, bounds: [s.min, s.max] } : { y: s.median, std: null };
}

export interface CurvePoint {
  /** the epoch, or the mean epoch of a window */
  x: number;
  /** the mean (stat mean) or the median (stat median) over the runs */
  y: number;
  /** stat mean: the sample std (null for n < 2); stat median: null */
  std: number | null;
  /** stat median, n >= 2: the lowest and highest value over the runs */
  bounds?: [number, number];
  n: number;
  /** the first and last epoch the point covers */
  from: number;
  to: number;
  /** of a window: the lowest and highest per-epoch mean within it */
  range?: [number, number];
}

/**
 * The learning curve of one line: at each recorded epoch the mean and sample std over its runs
 * of the metric (times `scale`). A curve of more than SMOOTH_ABOVE epochs is drawn as window
 * means instead: epoch 0 (the untrained model) on its own, then windows of `window` consecutive
 * epochs (about SMOOTH_WINDOWS of them); each run's values are averaged over the window, and the
 * point is the mean ± std over the runs of those window means, with the range of the per-epoch
 * means in the window (what the smoothing hides). `window` is 1 when the curve is drawn as is.
 */
export function learningCurve(
  runs: readonly { epochs: readonly EpochRow[] }[],
  metric: Metric,
  scale = 1,
  stat: Stat = 'mean',
): { points: CurvePoint[]; window: number } {
  const perRun = runs.map((r) => {
    const m = new Map<number, number>();
    for (const e of r.epochs) {
      const v = e[metric];
      if (v !== null && Number.isFinite(v)) m.set(e.epoch, v * scale);
    }
    return m;
  });
  const epochs = [...new Set(perRun.flatMap((m) => [...m.keys()]))].sort((a, b) => a - b);
  const at = (e: number) => perRun.flatMap((m) => (m.has(e) ? [m.get(e) as number] : []));
  if (epochs.length <= SMOOTH_ABOVE) {
    return {
      window: 1,
      points: epochs.map((e) => {
        const xs = at(e);
        return { x: e, ...centre(xs, stat), n: xs.length, from: e, to: e };
      }),
    };
  }
  const window = Math.ceil(epochs.filter((e) => e > 0).length / SMOOTH_WINDOWS);
  const chunks: number[][] = [];
  for (const e of epochs) {
    const last = chunks[chunks.length - 1];
    if (e === 0 || last === undefined || last[0] === 0 || last.length >= window) chunks.push([e]);
    else last.push(e);
  }
  const points = chunks.map((chunk) => {
    const runMeans = perRun.flatMap((m) => {
      const vs = chunk.flatMap((e) => (m.has(e) ? [m.get(e) as number] : []));
      return vs.length ? [vs.reduce((a, b) => a + b, 0) / vs.length] : [];
    });
    const epochMeans = chunk.map((e) => centre(at(e), stat).y);
    const point: CurvePoint = {
      x: chunk.reduce((a, b) => a + b, 0) / chunk.length,
      ...centre(runMeans, stat),
      n: runMeans.length,
      from: chunk[0],
      to: chunk[chunk.length - 1],
    };
    if (chunk.length > 1) point.range = [Math.min(...epochMeans), Math.max(...epochMeans)];
    return point;
  });
  return { points, window };
}
