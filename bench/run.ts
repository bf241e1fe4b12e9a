/**
 * `npm run bench`: prints the benchmark figures as markdown tables. Speed targets live here,
 * never in timed test assertions. BENCH_REPS sets the repetitions (default 7).
 */
import { arch, cpus } from 'node:os';
import { runKernelBench } from './kernels.ts';
import { runTrainingBench } from './training.ts';

const log = (line: string): void => {
  process.stdout.write(`${line}\n`);
};
log(`# aimc-sweep benchmark: Node ${process.version}, ${arch()}, ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}`);
log('');
runKernelBench(log);
runTrainingBench(log);
