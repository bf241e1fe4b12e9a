/**
 * `aimc-sweep plot --sweep NAME [--metric M] [--x epoch|<config key>] [--group K[,K2]]
 * [--facet K|none] [--epoch final|best|tail] [--stat mean|median] [--out f.svg] [--db results.db]`:
 * an SVG figure of a sweep's results: learning curves (mean ± std over seeds per group, per epoch)
 * or the final (best, tail) metric against a numeric config key; defaults from the sweep's
 * `view:` as for `table`; to --out, else to standard output when that is a pipe or a file, and to
 * a new file in the current directory (named on standard output) when it is a terminal.
 */
import { writeFileSync } from 'node:fs';
import type { Argv } from 'yargs';
import { METRICS, type Metric } from '../core/tasks/run-result.ts';
import { renderSweepPlot } from '../report/plot.ts';
import { EPOCH_CHOICES, type EpochChoice, type Stat, STATS } from '../sweep/view.ts';
import { UsageError } from './errors.ts';
import { DEFAULT_DB, keyList, withReadonlyStore, writeOutFile, writeStdout } from './read-command.ts';

/**
 * The file a plot goes to when standard output is a terminal: `<sweep>-<metric>[-vs-<x>].svg`,
 * safe characters only.
 */
export function defaultPlotFile(sweep: string, metric: string, x: string): string {
  const stem = `${sweep}-${metric}${x === 'epoch' ? '' : `-vs-${x}`}`;
  const safe = stem.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^[.-]+/, '');
  return `${safe || 'plot'}.svg`;
}

/**
 * Writes `text` to `file`, or to `<stem>-2.svg`, `-3`, ... when it exists (never overwriting);
 * returns the name written.
 */
export function writeNewFile(file: string, text: string): string {
  const stem = file.replace(/\.svg$/, '');
  for (let i = 1; i <= 999; i++) {
    const name = i === 1 ? file : `${stem}-${i}.svg`;
    try {
      writeFileSync(name, text, { flag: 'wx' });
      return name;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') continue;
      throw new UsageError(`${name}: cannot write (${(e as Error).message}); name a file with --out`);
    }
  }
  throw new UsageError(`${file}: it and ${stem}-2.svg to ${stem}-999.svg exist; name a file with --out`);
}

export function plotCommand(yargs: Argv): Argv {
  return yargs.command(
    'plot',
    "an SVG plot of a sweep's results: learning curves, or the final metric against a numeric config key; mean ± " +
      'std over seeds',
    (y) =>
      y
        .option('sweep', { type: 'string', demandOption: true, describe: 'sweep name' })
        .option('metric', {
          type: 'string',
          choices: METRICS,
          describe: "metric (default: the sweep's view, else test_accuracy when the runs have it, else weight_error)",
        })
        .option('x', {
          type: 'string',
          default: 'epoch',
          describe: 'epoch (learning curves), or a numeric dotted run config key such as device.n_states',
        })
        .option('group', {
          type: 'string',
          describe:
            "keys whose values make the lines, comma-separated; 'none' for one line (default: the rows of the " +
            "default table, the sweep's view's where it has one)",
        })
        .option('facet', {
          type: 'string',
          describe:
            "one panel per value of this key; 'none' for one panel (default: the default table's first column key " +
            'not on x or in --group)',
        })
        .option('epoch', {
          type: 'string',
          choices: EPOCH_CHOICES,
          describe:
            "with a key on x: each run's final epoch (default, or the sweep's view), its best, or tail: its mean " +
            'over the last 20 % of epochs',
        })
        .option('stat', {
          type: 'string',
          choices: STATS,
          describe: "mean ± 1 std (default, or the sweep's view), or median and range (lowest to highest) over seeds",
        })
        .option('out', {
          type: 'string',
          describe:
            'write the SVG to this file (default: standard output; on a terminal a new file ' +
            '<sweep>-<metric>[-vs-<x>].svg here)',
        })
        .option('db', { type: 'string', default: DEFAULT_DB, describe: 'results database' }),
    (argv) => {
      const { svg, plot } = withReadonlyStore(argv.db, (db) =>
        renderSweepPlot(db, argv.sweep, {
          metric: argv.metric as Metric | undefined,
          x: argv.x,
          group: argv.group === 'none' ? [] : keyList(argv.group)?.filter((k) => k !== ''),
          facet: argv.facet === undefined ? undefined : argv.facet === 'none' || argv.facet === '' ? null : argv.facet,
          epoch: argv.epoch as EpochChoice | undefined,
          stat: argv.stat as Stat | undefined,
        }),
      );
      for (const w of plot.warnings) process.stderr.write(`aimc-sweep: warning: ${w}\n`);
      if (argv.out !== undefined) writeOutFile(argv.out, svg);
      else if (process.stdout.isTTY) {
        // SVG source on a terminal helps nobody: a file, and where it is
        const file = writeNewFile(defaultPlotFile(argv.sweep, plot.metric, plot.x), svg);
        const kb = (Buffer.byteLength(svg) / 1024).toFixed(1);
        const panels = `${plot.figure.panels.length} panel${plot.figure.panels.length === 1 ? '' : 's'}`;
        const why = 'standard output is a terminal; --out FILE names the file, a pipe gets the SVG';
        writeStdout(`${file}: ${plot.figure.title} (${panels}), ${kb} KiB (${why})\n`);
      } else writeStdout(svg);
    },
  );
}
