/**
 * `npm run bench`: prints the benchmark figures as markdown tables. Speed targets live here,
 * never in timed test assertions. BENCH_REPS sets the repetitions (default 7); arguments name
 * the sections to run (kernels, training, profile, digital, sweep, distributed; default all).
 */
import { arch, cpus } from 'node:os';
import { runDigitalUpdateBench } from './digital-update.ts';
import { runDistributedBench } from './distributed.ts';
import { runKernelBench, runNoiseCostBench, runNormalBench } from './kernels.ts';
import { runProfileBench } from './profile.ts';
import { runSweepBench } from './sweep.ts';
import { runTrainingBench } from './training.ts';

const log = (line: string): void => {
  process.stdout.write(`${line}\n`);
};
log(`# aimc-sweep benchmark: Node ${process.version}, ${arch()}, ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}`);
log('');
// `npm run bench -- sweep training` runs only the named sections
const only = new Set(process.argv.slice(2));
const wanted = (section: string): boolean => only.size === 0 || only.has(section);
if (wanted('kernels')) {
  runKernelBench(log);
  runNormalBench(log);
  runNoiseCostBench(log);
}
if (wanted('training')) runTrainingBench(log);
if (wanted('profile')) runProfileBench(log);
if (wanted('digital')) runDigitalUpdateBench(log);
if (wanted('sweep')) await runSweepBench(log);
if (wanted('distributed')) await runDistributedBench(log);
