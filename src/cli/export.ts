/**
 * `aimc-sweep export --sweep NAME --format csv|jsonl [--db results.db] [--out file]`: one row per
 * run of a sweep (state, swept values, every config field, final metrics, provenance).
 */
import type { Argv } from 'yargs';
import { EXPORT_FORMATS, type ExportFormat, exportSweep } from '../report/export-rows.ts';
import { DEFAULT_DB, withReadonlyStore, writeOutFile, writeStdout } from './read-command.ts';

export function exportCommand(yargs: Argv): Argv {
  return yargs.command(
    'export',
    "a sweep's results flat, one row per run: config columns (config.<key>), swept values (swept.<key>), metrics, " +
      'provenance',
    (y) =>
      y
        .option('sweep', { type: 'string', demandOption: true, describe: 'sweep name' })
        .option('format', {
          type: 'string',
          choices: EXPORT_FORMATS,
          default: 'csv',
          describe: 'CSV (RFC 4180) or JSON Lines',
        })
        .option('db', { type: 'string', default: DEFAULT_DB, describe: 'results database' })
        .option('out', { type: 'string', describe: 'write to this file instead of standard output' }),
    (argv) => {
      const text = withReadonlyStore(argv.db, (db) => exportSweep(db, argv.sweep, argv.format as ExportFormat));
      if (argv.out === undefined) writeStdout(text);
      else writeOutFile(argv.out, text);
    },
  );
}
