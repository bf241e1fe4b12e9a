/** `aimc-sweep simulate`: one run in-process; prints the RunResult (JSON with --json). */
import { performance } from 'node:perf_hooks';
import type { Argv } from 'yargs';
import { type ClassificationData, needsDataset, type RunResult, train } from '../core/train.ts';
import { DataError, loadDataset } from '../data/index.ts';
import { runScheduleWarnings } from '../diagnostics/schedule-checks.ts';
import { UsageError } from './errors.ts';
import { runConfigFromCli } from './run-config-input.ts';
import { reportScheduleWarnings, shapeOf, STRICT_OPTION } from './schedule-warnings.ts';

const exp = (v: number | undefined): string => (v ?? Number.NaN).toExponential(4).padEnd(12);
const pct = (v: number | undefined): string => `${((v ?? Number.NaN) * 100).toFixed(2)}%`.padStart(8);

function formatResult(r: RunResult): string {
  const lines: string[] = [];
  const c = r.config;
  const dev = c.device ? ` device=${c.device.kind} n_states=${+c.device.n_states.toPrecision(6)}` : '';
  const classification = c.task.kind !== 'least-squares';
  let task: string = c.task.kind;
  if (c.task.kind === 'least-squares') task += `/${c.task.form}`;
  else if (c.model) {
    const hidden = c.model.kind === 'mlp' ? `(${(c.model.hidden ?? []).join(',')})` : '';
    task += ` model=${c.model.kind}${hidden}/${c.model.activation}`;
  }
  lines.push(`algorithm=${c.algorithm} task=${task}${dev} lr=${c.lr} batch=${c.batch_size} seed=${c.seed}`);
  lines.push(
    classification
      ? 'epoch  train_loss    test_loss     test_acc  pulses'
      : 'epoch  train_loss    weight_error  pulses',
  );
  for (const m of r.history) {
    const pulses =
      Object.entries(m.pulses)
        .map(([k, v]) => `${k}=${v}`)
        .join(' ') || '-';
    const metric = classification ? `${exp(m.test_loss)}  ${pct(m.test_accuracy)}` : exp(m.weight_error);
    lines.push(`${String(m.epoch).padStart(5)}  ${exp(m.train_loss)}  ${metric}  ${pulses}`);
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
        .option('config', {
          type: 'string',
          describe: 'run config file: YAML, or JSON (.json); --set overrides its fields',
        })
        .option('set', {
          type: 'string',
          array: true,
          default: [] as string[],
          describe: 'override a field: --set device.n_states=16 (repeatable)',
        })
        .option('json', { type: 'boolean', default: false, describe: 'print the RunResult as JSON' })
        .options(STRICT_OPTION),
    (argv) => {
      const config = runConfigFromCli(argv.config, argv.set as string[]);
      let data: ClassificationData | undefined;
      try {
        data = needsDataset(config) ? loadDataset(config.task) : undefined;
      } catch (e) {
        if (e instanceof DataError) throw new UsageError(e.message);
        throw e;
      }
      reportScheduleWarnings(runScheduleWarnings(config, data === undefined ? null : shapeOf(data)), argv.strict);
      const result = train(config, { now: () => performance.now() }, data);
      process.stdout.write(`${argv.json ? JSON.stringify(result) : formatResult(result)}\n`);
    },
  );
}
