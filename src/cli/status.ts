/**
 * `aimc-sweep status [--db results.db] [--json]`: every sweep with its runs by state, progress,
 * throughput and ETA, and the workers. (`--coordinator host:port` will ask a running
 * coordinator for the same report.)
 */
import type { Argv } from 'yargs';
import { formatStatus, statusReport } from '../report/status.ts';
import { DEFAULT_DB, withReadonlyStore, writeStdout } from './table.ts';

export function statusCommand(yargs: Argv): Argv {
  return yargs.command(
    'status',
    'sweeps with run counts by state, progress, throughput and ETA; workers',
    (y) =>
      y
        .option('db', { type: 'string', default: DEFAULT_DB, describe: 'results database' })
        .option('json', { type: 'boolean', default: false, describe: 'print the report as JSON' }),
    (argv) => {
      const report = withReadonlyStore(argv.db, (db) => statusReport(db, Date.now()));
      writeStdout(argv.json ? JSON.stringify(report, null, 2) + '\n' : formatStatus(report, argv.db));
    },
  );
}
