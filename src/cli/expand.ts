/**
 * `aimc-sweep expand <sweep.yaml> [--json]`: validates a sweep and lists its runs without running
 * them: the count, then one line per run (its hash's first 12 digits and the swept values that
 * made it), or with --json one `{"config", "hash"}` line per run.
 */
import type { Argv } from 'yargs';
import { canonicalJson } from '../sweep/canonical.ts';
import { expandSweep } from '../sweep/expand.ts';
import { readSweepFile, SweepError } from '../sweep/spec.ts';
import { sweepWarnings } from '../diagnostics/sweep-warnings.ts';
import { MAX_RUNS_OPTION, maxRunsFrom, UsageError } from './errors.ts';
import { runLabel } from './run-label.ts';
import { datasetShape, reportScheduleWarnings, STRICT_OPTION } from './schedule-warnings.ts';

export function expandCommand(yargs: Argv): Argv {
  return yargs.command(
    'expand <sweep>',
    'validate a sweep file and list its runs (short hash and swept values; the canonical configs with --json)',
    (y) =>
      y
        .positional('sweep', { type: 'string', demandOption: true, describe: 'sweep definition (YAML)' })
        .option('json', { type: 'boolean', default: false, describe: 'one line per run: {"hash", "config"}' })
        .options(MAX_RUNS_OPTION)
        .options(STRICT_OPTION),
    (argv) => {
      let expansion: ReturnType<typeof expandSweep>;
      let name: string;
      try {
        const spec = readSweepFile(argv.sweep as string);
        name = spec.name;
        expansion = expandSweep(spec, { maxRuns: maxRunsFrom(argv['max-runs']) });
      } catch (e) {
        if (e instanceof SweepError) throw new UsageError(e.message);
        throw e;
      }
      reportScheduleWarnings(sweepWarnings(expansion.runs, datasetShape), argv.strict);
      const { runs, combinations, excluded, merged } = expansion;
      process.stdout.write(
        `${name}: ${runs.length} runs (${combinations} combinations, ${excluded} excluded, ${merged} identical ` +
          `merged)\n`,
      );
      if (argv.json)
        for (const r of runs) process.stdout.write(`${canonicalJson({ hash: r.hash, config: r.config })}\n`);
      else process.stdout.write(runs.map((r) => `  ${r.hash.slice(0, 12)}  ${runLabel(r)}\n`).join(''));
    },
  );
}
