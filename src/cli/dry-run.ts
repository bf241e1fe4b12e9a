/**
 * `run --dry-run` and `submit --dry-run`: what a sweep would compute and what it would cost,
 * before a cluster spends it. Nothing is computed for the sweep and nothing is written: the
 * database is opened read-only (a missing one is fine: every run is to compute).
 *
 * The cost of each run still to compute comes from, in this order:
 * 1. the stored wall times of done runs that differ from it only in the seed (same
 *    configuration: the same work);
 * 2. a calibration here: a short run of each configuration shape (the config without its seed),
 *    its first epoch on a fraction of its images (least squares: samples), grown until the epochs
 *    take CALIBRATION_TARGET_MS, timed per epoch to separate the setup and evaluation from the
 *    training, and scaled linearly to the run's images and epochs (`calibrate`). It is bounded in
 *    total (CALIBRATION_BUDGET_MS); shapes left over take the per-image costs of a timed shape of
 *    the same family (algorithm, task, model), else the mean of the timed ones.
 * The output says how many runs each way was used for.
 */
import { existsSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { RunConfig } from '../core/config/run-config.ts';
import { resolveRunConfig } from '../core/config/run-config.ts';
import { type ClassificationData, needsDataset, train } from '../core/train.ts';
import { DataError, loadDataset } from '../data/index.ts';
import { formatDuration } from '../report/format.ts';
import type { RunStatus } from '../store/queue.ts';
import { listSweeps, sweepRuns } from '../store/results-read.ts';
import { canonicalJson } from '../sweep/canonical.ts';
import type { ExpandedRun } from '../sweep/expand.ts';
import { withReadonlyStore } from './read-command.ts';

/** Wall time the calibration may spend in total (training; loading the data not counted). */
export const CALIBRATION_BUDGET_MS = 4000;
/** A calibration run grows its images until one run takes this long (or uses all of them). */
const CALIBRATION_TARGET_MS = 50;
/** First calibration size: images (classification) or samples (least squares). */
const FIRST_ITEMS = 64;

export interface DryRunOptions {
  /** sweep name */
  name: string;
  runs: readonly ExpandedRun[];
  /** the database to read stored runs from; undefined: unknown here (submit without --db) */
  db: string | undefined;
  retryFailed: boolean;
  /** threads of the local pool (run), for the wall-clock estimate; undefined: none (submit) */
  threads?: number;
  budgetMs?: number;
  now?: () => number;
}

/**
 * The cost of a configuration shape, ms: a run of it takes setupMs + evalMs x (training + test
 * items) for epoch 0 + epochs x epochMs x training items.
 */
interface UnitCost {
  /** building the model and everything else a run does once */
  setupMs: number;
  /** epoch 0 (the untrained model evaluated), per image of the training and test sets (least squares: per sample) */
  evalMs: number;
  /** one epoch (training and the test evaluation after it), per training image (least squares: per sample) */
  epochMs: number;
}

interface Stored {
  status: Map<string, RunStatus>;
  /** shape key -> wall times of the done runs of that shape */
  walls: Map<string, number[]>;
}

/** The configuration without its seed: runs of one shape do the same work. */
function shapeKey(config: RunConfig): string {
  const { seed: _seed, ...rest } = config;
  return canonicalJson(rest);
}

/** Algorithm, task and model: shapes of one family have about the same cost per image. */
function familyKey(config: RunConfig): string {
  const c = config as RunConfig & { n_tiles?: number };
  const model = c.model ? `${c.model.kind}(${(c.model.hidden ?? []).join(',')})` : '';
  const task =
    c.task.kind === 'least-squares'
      ? `${c.task.form}/${c.task.in_size ?? ''}x${c.task.out_size ?? ''}`
      : `${c.task.kind}/${String(c.task.downsample)}`;
  return [c.algorithm, c.n_tiles ?? '', task, model, c.device?.kind ?? ''].join('|');
}

function readStored(file: string): Stored {
  return withReadonlyStore(file, (db) => {
    const status = new Map<string, RunStatus>();
    const walls = new Map<string, number[]>();
    const seen = new Set<string>();
    for (const sweep of listSweeps(db)) {
      for (const r of sweepRuns(db, sweep.id)) {
        status.set(r.hash, r.status);
        if (seen.has(r.hash)) continue;
        seen.add(r.hash);
        const wall = r.result?.wall_ms;
        if (r.status !== 'done' || wall === null || wall === undefined || !(wall > 0)) continue;
        const key = shapeKey(r.config as unknown as RunConfig);
        const list = walls.get(key);
        if (list) list.push(wall);
        else walls.set(key, [wall]);
      }
    }
    return { status, walls };
  });
}

/** A run's training and test items: images (classification) or samples per epoch (least squares). */
function itemsOf(config: RunConfig, data: ClassificationData | undefined): { train: number; test: number } {
  if (config.task.kind === 'least-squares') return { train: config.task.n_samples, test: 0 };
  return { train: data?.train.n ?? 0, test: data?.test.n ?? 0 };
}

function costOf(config: RunConfig, data: ClassificationData | undefined, c: UnitCost): number {
  const { train: n, test: m } = itemsOf(config, data);
  return c.setupMs + c.evalMs * (n + m) + config.epochs * c.epochMs * n;
}

/** The same run cut to `epochs` epochs on `items` images (or samples); undefined when that is not a valid run. */
function cutTo(config: RunConfig, epochs: number, items: number, testItems: number): RunConfig | undefined {
  const raw = structuredClone(config) as unknown as Record<string, unknown>;
  raw.epochs = epochs;
  const task = raw.task as Record<string, unknown>;
  if (config.task.kind === 'least-squares') task.n_samples = items;
  else {
    task.train_size = items;
    task.test_size = testItems;
  }
  try {
    return resolveRunConfig(raw);
  } catch {
    return undefined;
  }
}

interface Calibration {
  cost: UnitCost;
  /** time spent timing this shape (the warm-up included) */
  ms: number;
  /** the fraction of the run's images (samples) the last timed run used */
  fraction: number;
}

/**
 * Times one shape: one epoch on a fraction k of its training and test images (least squares:
 * samples), k growing 4-fold from FIRST_ITEMS images until the epochs take CALIBRATION_TARGET_MS
 * or k is 1; then (short epochs) more of its epochs, 4-fold, up to its own. The epochs after
 * epoch 0 are k of a full epoch each; epoch 0 is the setup plus k of the full evaluation,
 * separated by the last two sizes. The first run only warms the JIT up. Undefined when the
 * shape cannot run here (its cut is no valid run, it diverges, its data is missing).
 */
function calibrate(
  config: RunConfig,
  full: ClassificationData | undefined,
  deadline: number,
  now: () => number,
): Calibration | undefined {
  const { train: total, test: testTotal } = itemsOf(config, full);
  if (total < 1) return undefined;
  let k = Math.min(1, Math.max(FIRST_ITEMS, 2 * config.batch_size) / total);
  let epochs = 1;
  let spent = 0;
  const points: Array<{ k: number; e0: number; epoch: number }> = [];
  for (let warm = true; ; warm = false) {
    const cut = cutTo(config, epochs, Math.max(1, Math.ceil(k * total)), Math.max(1, Math.ceil(k * testTotal)));
    if (cut === undefined) break;
    let data: ClassificationData | undefined;
    try {
      data = needsDataset(cut) ? loadDataset(cut.task) : undefined;
    } catch (e) {
      if (e instanceof DataError) break;
      throw e;
    }
    const t0 = now();
    let history;
    try {
      history = train(cut, { now }, data).history;
    } catch {
      break; // diverged or failed at this size
    }
    const ms = now() - t0;
    spent += ms;
    if (warm) continue;
    const e0 = history[0]?.wall_ms ?? 0;
    const end = history[history.length - 1]?.wall_ms ?? ms;
    // the items the cut really has (the data may round)
    const used = itemsOf(cut, data);
    if (epochs === 1 || k < 1 || points.length === 0)
      points.push({ k: used.train / total, e0, epoch: Math.max(0, end - e0) / epochs });
    // more epochs: a better epoch time
    else points[points.length - 1] = { ...points[points.length - 1], epoch: Math.max(0, end - e0) / epochs };
    if (end - e0 >= CALIBRATION_TARGET_MS || now() + 5 * ms > deadline) break;
    if (k < 1) k = Math.min(1, k * 4);
    else if (epochs < config.epochs) epochs = Math.min(config.epochs, epochs * 4);
    else break;
  }
  const last = points[points.length - 1];
  if (last === undefined) return undefined;
  const before = points[points.length - 2];
  // epoch 0 = setup + k x the full evaluation
  let evalFull =
    before === undefined || last.k <= before.k
      ? last.k >= 1
        ? last.e0
        : 0
      : (last.e0 - before.e0) / (last.k - before.k);
  evalFull = Math.min(Math.max(0, evalFull), last.e0 / last.k);
  const setupMs = Math.max(0, last.e0 - last.k * evalFull);
  return {
    cost: { setupMs, evalMs: evalFull / Math.max(1, total + testTotal), epochMs: last.epoch / last.k / total },
    ms: spent,
    fraction: last.k,
  };
}

const plural = (n: number, word: string): string => `${n.toLocaleString('en-US')} ${word}${n === 1 ? '' : 's'}`;

/**
 * `0.0061`, `1.2`, `330` CPU-hours: two significant digits below 10; a sweep of seconds is
 * `< 0.0001` (its duration beside says how much), never an exponent.
 */
function hours(ms: number): string {
  const h = ms / 3_600_000;
  if (h === 0) return '0';
  if (h < 0.0001) return '< 0.0001';
  if (h >= 10) return h.toFixed(0);
  return h.toPrecision(2);
}

function duration(ms: number): string {
  return ms < 1000 ? `${Math.max(1, Math.round(ms))} ms` : formatDuration(ms);
}

/** The dry run's report (several lines, ending in a newline). */
export function dryRunReport(o: DryRunOptions): string {
  const now = o.now ?? (() => performance.now());
  const lines: string[] = [];
  let stored: Stored | undefined;
  let dbNote: string;
  if (o.db === undefined) {
    dbNote = 'which of them the coordinator has stored is not known here (pass --db with its database to count them)';
  } else if (!existsSync(o.db)) {
    dbNote = `${o.db} does not exist yet: nothing is stored`;
  } else {
    stored = readStored(o.db);
    dbNote = '';
  }

  let done = 0;
  let failed = 0;
  let pending = 0;
  let retriedFailed = 0;
  const toCompute: ExpandedRun[] = [];
  for (const r of o.runs) {
    const s = stored?.status.get(r.hash);
    if (s === 'done') done++;
    else if (s === 'failed' && !o.retryFailed) failed++;
    else {
      if (s === 'failed') retriedFailed++;
      if (s === 'queued' || s === 'running') pending++;
      toCompute.push(r);
    }
  }
  lines.push(
    `${o.name}: ${plural(o.runs.length, 'run')}, ${toCompute.length.toLocaleString('en-US')} to compute (dry ` +
      `run: nothing computed, nothing written)`,
  );
  if (stored !== undefined) {
    const parts = [`${done.toLocaleString('en-US')} done`];
    if (failed > 0) parts.push(`${failed.toLocaleString('en-US')} failed (not re-run without --retry-failed)`);
    if (retriedFailed > 0) parts.push(`${retriedFailed.toLocaleString('en-US')} failed (re-run: --retry-failed)`);
    if (pending > 0) parts.push(`${pending.toLocaleString('en-US')} queued or leased (to compute)`);
    lines.push(`  stored in ${o.db}: ${parts.join(', ')}`);
  } else lines.push(`  ${dbNote}`);
  if (toCompute.length === 0) {
    lines.push('  nothing to compute');
    return `${lines.join('\n')}\n`;
  }

  // 1. stored wall times of the same configuration with another seed
  const estimate = new Map<string, number>(); // hash -> ms
  const byShape = new Map<string, ExpandedRun[]>();
  let fromStored = 0;
  let storedWalls = 0;
  const usedShapes = new Set<string>();
  for (const r of toCompute) {
    const key = shapeKey(r.config);
    const walls = stored?.walls.get(key);
    if (walls && walls.length > 0) {
      estimate.set(r.hash, walls.reduce((a, b) => a + b, 0) / walls.length);
      fromStored++;
      if (!usedShapes.has(key)) {
        usedShapes.add(key);
        storedWalls += walls.length;
      }
      continue;
    }
    const list = byShape.get(key);
    if (list) list.push(r);
    else byShape.set(key, [r]);
  }

  // 2. calibration: one shape per family first, then the others, within the budget
  const budget = o.budgetMs ?? CALIBRATION_BUDGET_MS;
  const shapes = [...byShape.values()];
  // one shape of each family first (in sweep order), then the others
  const firsts: RunConfig[] = [];
  const rest: RunConfig[] = [];
  const seenFamily = new Set<string>();
  for (const runs of shapes) {
    const c = runs[0].config;
    const fam = familyKey(c);
    if (seenFamily.has(fam)) rest.push(c);
    else {
      seenFamily.add(fam);
      firsts.push(c);
    }
  }
  const costs = new Map<string, UnitCost>(); // shape -> cost
  const familyCost = new Map<string, UnitCost>();
  const fullData = new Map<string, ClassificationData | undefined>();
  const unavailable = new Map<string, string>(); // shape -> why its data cannot be loaded
  const t0 = now();
  const deadline = t0 + budget;
  let calibrationMs = 0;
  let minFraction = Infinity;
  let maxFraction = 0;
  const dataOf = (c: RunConfig): ClassificationData | undefined => {
    const key = shapeKey(c);
    if (fullData.has(key)) return fullData.get(key);
    let d: ClassificationData | undefined;
    try {
      d = needsDataset(c) ? loadDataset(c.task) : undefined;
    } catch (e) {
      if (!(e instanceof DataError)) throw e;
      unavailable.set(key, e.message);
    }
    fullData.set(key, d);
    return d;
  };
  for (const c of [...firsts, ...rest]) {
    if (now() >= deadline) break;
    const data = dataOf(c);
    if (needsDataset(c) && data === undefined) continue;
    const cal = calibrate(c, data, deadline, now);
    if (cal === undefined) continue;
    calibrationMs += cal.ms;
    minFraction = Math.min(minFraction, cal.fraction);
    maxFraction = Math.max(maxFraction, cal.fraction);
    costs.set(shapeKey(c), cal.cost);
    const fam = familyKey(c);
    if (!familyCost.has(fam)) familyCost.set(fam, cal.cost);
  }
  const all = [...costs.values()];
  const mean = (f: (c: UnitCost) => number): number => all.reduce((a, c) => a + f(c), 0) / all.length;
  const average: UnitCost | undefined =
    all.length === 0
      ? undefined
      : { setupMs: mean((c) => c.setupMs), evalMs: mean((c) => c.evalMs), epochMs: mean((c) => c.epochMs) };
  let timed = 0;
  let fromFamily = 0;
  let fromAverage = 0;
  let unknown = 0;
  const unknownWhy = new Set<string>();
  for (const runs of shapes) {
    const c = runs[0].config;
    const key = shapeKey(c);
    let cost = costs.get(key);
    let how: 'timed' | 'family' | 'average' = 'timed';
    if (cost === undefined) {
      cost = familyCost.get(familyKey(c));
      how = 'family';
    }
    if (cost === undefined) {
      cost = average;
      how = 'average';
    }
    const data = dataOf(c);
    if (cost === undefined || (needsDataset(c) && data === undefined)) {
      unknown += runs.length;
      const why = unavailable.get(key);
      if (why !== undefined) unknownWhy.add(why);
      continue;
    }
    const ms = costOf(c, data, cost);
    for (const r of runs) estimate.set(r.hash, ms);
    if (how === 'timed') timed += runs.length;
    else if (how === 'family') fromFamily += runs.length;
    else fromAverage += runs.length;
  }

  // the report
  const totalMs = [...estimate.values()].reduce((a, b) => a + b, 0);
  const known = toCompute.length - unknown;
  const wall =
    o.threads === undefined
      ? ''
      : `; about ${duration(totalMs / Math.min(o.threads, Math.max(1, known)))} on ${plural(o.threads, 'thread')} here`;
  lines.push(
    `estimated cost: ${hours(totalMs)} CPU-hours (${duration(totalMs)} of one ` +
      `core${wall})${unknown > 0 ? `, ${plural(unknown, 'run')} not estimated` : ''}`,
  );
  // by algorithm
  const byAlgorithm = new Map<string, { runs: number; ms: number }>();
  for (const r of toCompute) {
    const ms = estimate.get(r.hash);
    if (ms === undefined) continue;
    const a = byAlgorithm.get(r.config.algorithm) ?? { runs: 0, ms: 0 };
    a.runs++;
    a.ms += ms;
    byAlgorithm.set(r.config.algorithm, a);
  }
  const width = Math.max(...[...byAlgorithm.keys()].map((k) => k.length));
  for (const [alg, a] of [...byAlgorithm].sort((x, y) => y[1].ms - x[1].ms)) {
    lines.push(
      `  ${alg.padEnd(width)}  ${plural(a.runs, 'run').padStart(9)}  ${duration(a.ms).padStart(8)}  ` +
        `${totalMs > 0 ? `${((100 * a.ms) / totalMs).toFixed(0).padStart(3)} %` : ''}`,
    );
  }
  // how
  const how: string[] = [];
  if (fromStored > 0)
    how.push(
      `${plural(fromStored, 'run')} from the stored wall times of ${plural(storedWalls, 'done run')} that ` +
        `differ only in the seed`,
    );
  if (timed + fromFamily + fromAverage > 0) {
    const pct = (f: number): string => `${f >= 0.1 ? (100 * f).toFixed(0) : (100 * f).toPrecision(1)} %`;
    const size = minFraction === maxFraction ? pct(minFraction) : `${pct(minFraction)} to ${pct(maxFraction)}`;
    let text =
      `${plural(timed, 'run')} from timing a short run of each of its ` +
      `${plural(costs.size, 'configuration shape')} here (config without seed; ` +
      `its first epochs on ${size} of its images or samples; ${duration(calibrationMs)} in all), scaled to the ` +
      `run's images and epochs`;
    if (fromFamily > 0)
      text +=
        `; ${plural(fromFamily, 'run')} of shapes not timed (${duration(budget)} budget) from a timed shape of ` +
        `the same algorithm, task and model`;
    if (fromAverage > 0) text += `; ${plural(fromAverage, 'run')} from the mean of the timed shapes`;
    how.push(text);
  }
  if (unknown > 0)
    how.push(
      `${plural(unknown, 'run')} not ` +
        `estimated${unknownWhy.size > 0 ? ` (${[...unknownWhy].join('; ')})` : ' (no run could be timed)'}`,
    );
  lines.push(`  how: ${how.join('; ')}`);
  lines.push("  one core of this machine; a cluster node's cores may be faster or slower");
  return `${lines.join('\n')}\n`;
}
