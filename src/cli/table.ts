/**
 * `aimc-sweep table --sweep NAME [--rows K[,K2]] [--cols K[,K2]] [--metric M] [--epoch final|best|tail]
 * [--stat mean|median] [--format md|csv|json] [--db results.db]`: the pivot of a sweep's results,
 * mean ± std and the 95 % interval of the mean over seeds per cell (or median [min, max]) with run
 * counts, and the paper's value and z beside cells the sweep's `reference:` section covers;
 * options not given come from the sweep's `view:`.
 */
import type { Argv } from 'yargs';
import { METRICS, type Metric } from '../core/tasks/run-result.ts';
import { buildSweepPivot } from '../report/pivot.ts';
import { formatPivotCsv, formatPivotJson, formatPivotMarkdown } from '../report/table-formats.ts';
import { EPOCH_CHOICES, type EpochChoice, type Stat, STATS } from '../sweep/view.ts';
import { DEFAULT_DB, keyList, withReadonlyStore, writeStdout } from './read-command.ts';

export function tableCommand(yargs: Argv): Argv {
  return yargs.command(
    'table',
    "pivot a sweep's results: mean ± std over seeds per cell, with run counts",
    (y) =>
      y
        .option('sweep', { type: 'string', demandOption: true, describe: 'sweep name' })
        .option('rows', {
          type: 'string',
          describe:
            "row keys, comma-separated dotted run config keys (default: the sweep's view, else algorithm, or the " +
            'first varying swept key)',
        })
        .option('cols', {
          type: 'string',
          describe:
            "column keys (default: the sweep's view, else the other swept keys that vary across rows, except seed)",
        })
        .option('metric', {
          type: 'string',
          choices: METRICS,
          describe: "metric (default: the sweep's view, else test_accuracy when the runs have it, else weight_error)",
        })
        .option('epoch', {
          type: 'string',
          choices: EPOCH_CHOICES,
          describe:
            "each run's final epoch (default, or the sweep's view), its best (max accuracy, min loss/error), or " +
            'tail: its mean over the last 20 % of epochs',
        })
        .option('stat', {
          type: 'string',
          choices: STATS,
          describe:
            "per cell: mean ± std [95 % interval of the mean] (default, or the sweep's view), or median [min, " +
            'max] over seeds',
        })
        .option('format', {
          type: 'string',
          choices: ['md', 'csv', 'json'],
          default: 'md',
          describe:
            'markdown table, one CSV line per cell, or a JSON array of cells (all in the unit the title prints: ' +
            'accuracies in %)',
        })
        .option('db', { type: 'string', default: DEFAULT_DB, describe: 'results database' }),
    (argv) => {
      const table = withReadonlyStore(argv.db, (db) =>
        buildSweepPivot(db, argv.sweep, {
          rows: keyList(argv.rows),
          cols: keyList(argv.cols),
          metric: argv.metric as Metric | undefined,
          epoch: argv.epoch as EpochChoice | undefined,
          stat: argv.stat as Stat | undefined,
        }),
      );
      if (argv.format === 'md') {
        writeStdout(formatPivotMarkdown(table));
        return;
      }
      for (const w of [...table.warnings, ...table.referenceWarnings]) {
        process.stderr.write(`aimc-sweep: warning: ${w}\n`);
      }
      writeStdout(argv.format === 'csv' ? formatPivotCsv(table) : formatPivotJson(table));
    },
  );
}
