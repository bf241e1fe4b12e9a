/** `aimc-sweep simulate`: one run in-process; prints the RunResult (JSON with --json). */
import { performance } from 'node:perf_hooks';
import type { Argv } from 'yargs';
import { type RunResult, train } from '../core/train.ts';
import { runConfigFromCli } from './run-config-input.ts';

function formatResult(r: RunResult): string {
  const lines: string[] = [];
  const c = r.config;
  const dev = c.device ? ` device=${c.device.kind} n_states=${+c.device.n_states.toPrecision(6)}` : '';
  lines.push(`algorithm=${c.algorithm} task=${c.task.kind}/${c.task.form}${dev} lr=${c.lr} batch=${c.batch_size} seed=${c.seed}`);
  lines.push('epoch  train_loss    weight_error  pulses');
  for (const m of r.history) {
    const pulses = Object.entries(m.pulses).map(([k, v]) => `${k}=${v}`).join(' ') || '-';
    lines.push(`${String(m.epoch).padStart(5)}  ${m.train_loss.toExponential(4).padEnd(12)}  ${(m.weight_error ?? Number.NaN).toExponential(4).padEnd(12)}  ${pulses}`);
  }
  lines.push(`weights digest ${r.weights_digest}, ${(r.wall_ms ?? 0).toFixed(0)} ms`);
  return lines.join('\n');
}

export function simulateCommand(yargs: Argv): Argv {
  return yargs.command(
    'simulate',
    'run one simulation in-process and print its result',
    (y) =>
      y
        .option('config', { type: 'string', describe: 'JSON file with run config fields' })
        .option('set', { type: 'string', array: true, default: [] as string[], describe: 'override a field: --set device.n_states=16 (repeatable)' })
        .option('json', { type: 'boolean', default: false, describe: 'print the RunResult as JSON' }),
    (argv) => {
      const config = runConfigFromCli(argv.config, argv.set as string[]);
      const result = train(config, { now: () => performance.now() });
      process.stdout.write(`${argv.json ? JSON.stringify(result) : formatResult(result)}\n`);
    },
  );
}
