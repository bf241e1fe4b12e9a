/**
 * `aimc-sweep report --sweep NAME --out f.html [--db results.db]`: one self-contained HTML file
 * (inline CSS and SVG, no scripts, no external resources) with the sweep's definition,
 * provenance, status, table (the sweep's view where it has one), cost beside accuracy, plots,
 * failed runs and the commands to reproduce it.
 */
import type { Argv } from 'yargs';
import { buildSweepReport } from '../report/html.ts';
import { DEFAULT_DB, withReadonlyStore, writeOutFile, writeStdout } from './read-command.ts';

export function reportCommand(yargs: Argv): Argv {
  return yargs.command(
    'report',
    'a self-contained HTML report of a sweep: definition, provenance, status, table, cost beside accuracy, plots, ' +
      'failed runs, how to reproduce',
    (y) =>
      y
        .option('sweep', { type: 'string', demandOption: true, describe: 'sweep name' })
        .option('out', { type: 'string', demandOption: true, describe: 'the HTML file to write' })
        .option('db', { type: 'string', default: DEFAULT_DB, describe: 'results database' }),
    (argv) => {
      const report = withReadonlyStore(argv.db, (db) => buildSweepReport(db, argv.sweep, { db: argv.db }));
      for (const w of report.warnings) process.stderr.write(`aimc-sweep: warning: ${w}\n`);
      writeOutFile(argv.out, report.html);
      const kb = (Buffer.byteLength(report.html) / 1024).toFixed(1);
      const plots = `${report.plots.length} plot${report.plots.length === 1 ? '' : 's'}`;
      const scatter = report.cost.figure ? ' and the cost scatter' : '';
      const failed = `${report.failed} failed run${report.failed === 1 ? '' : 's'}`;
      writeStdout(`${argv.out}: report of ${argv.sweep} (${plots}${scatter}, ${failed}), ${kb} KiB\n`);
    },
  );
}
