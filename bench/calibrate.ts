/**
 * CPU-hour estimates of the paper sweeps (docs/reproduction.md's cost table): for each full sweep,
 * the dry run's estimate (src/cli/dry-run.ts: a short calibration run of every configuration
 * shape, one epoch on a few hundred images grown until it takes 50 ms, scaled to the run's images
 * and epochs) with a calibration budget large enough to time every shape (CALIBRATION_BUDGET_S,
 * default 120 per sweep). `node --import tsx bench/calibrate.ts [sweep names]`.
 */
import { dryRunReport } from '../src/cli/dry-run.ts';
import { expandSweep } from '../src/sweep/expand.ts';
import { readSweepFile } from '../src/sweep/spec.ts';

const SWEEPS = ['paper-b-table5', 'paper-b-table6', 'paper-a-table1', 'paper-a-states-tiles', 'paper-a-gamma'];
const budgetMs = 1000 * Number(process.env.CALIBRATION_BUDGET_S ?? 120);
const names = process.argv.length > 2 ? process.argv.slice(2) : SWEEPS;
for (const name of names) {
  const spec = readSweepFile(new URL(`../sweeps/${name}.yaml`, import.meta.url).pathname);
  const { runs } = expandSweep(spec);
  process.stdout.write(dryRunReport({ name, runs, db: undefined, retryFailed: false, budgetMs }));
}
