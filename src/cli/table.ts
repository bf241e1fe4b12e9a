/**
 * `aimc-sweep table --sweep NAME [--rows K[,K2]] [--cols K[,K2]] [--metric M] [--epoch final|best|tail]
 * [--stat mean|median] [--format md|csv|json] [--db results.db]`: the pivot of a sweep's results,
 * mean ± std and the 95 % interval of the mean over seeds per cell (or median [min, max]) with run
 * counts, and the paper's value and z beside cells the sweep's `reference:` section covers;
 * options not given come from the sweep's `view:`. Also the helpers the other read-side commands
 * share.
 */
import type { Argv } from 'yargs';
import { formatPivotCsv, formatPivotJson, formatPivotMarkdown } from '../report/format.ts';
import { buildSweepPivot, EPOCH_CHOICES, type EpochChoice, METRICS, type Metric, ReportError, type Stat, STATS } from '../report/pivot.ts';
import { sqliteCode, StoreFailure, storeErrorFrom } from '../store/errors.ts';
import type { Db } from '../store/open.ts';
import { closeReadonlyStore, openStoreReadonly, StoreError } from '../store/open.ts';
import { QueryError } from '../store/results-read.ts';
import { UsageError } from './errors.ts';

export const DEFAULT_DB = 'results.db';

/**
 * Runs `fn` on a read-only connection to `file`, closed afterwards; a database that cannot be
 * used as asked (missing, foreign, damaged, unreadable, unknown sweep) and bad requests become
 * UsageErrors (exit 2) of one line naming the file, and leave no -wal/-shm files behind.
 */
export function withReadonlyStore<T>(file: string, fn: (db: Db) => T): T {
  let db: Db;
  try {
    db = openStoreReadonly(file);
  } catch (e) {
    if (e instanceof StoreError) throw new UsageError(e.message);
    throw e;
  }
  let damaged = false;
  try {
    return fn(db);
  } catch (e) {
    // an SQLite error while reading (a damaged page, an I/O error), also behind a QueryError
    const sqlite = sqliteCode(e) !== undefined ? e : e instanceof QueryError && sqliteCode(e.cause) !== undefined ? e.cause : undefined;
    if (sqlite !== undefined) {
      const err = storeErrorFrom(sqlite, file, false);
      if (err instanceof StoreError || err instanceof StoreFailure) {
        damaged = true;
        throw new UsageError(err.message);
      }
    }
    if (e instanceof StoreError || e instanceof ReportError || e instanceof QueryError) throw new UsageError(e.message);
    throw e;
  } finally {
    closeReadonlyStore(db, damaged);
  }
}

/** Writes to stdout (main.ts ends the command quietly when the reader went away). */
export function writeStdout(text: string): void {
  process.stdout.write(text);
}

/** `a,b` -> ['a', 'b']; undefined when not given. */
export function keyList(v: unknown): string[] | undefined {
  if (v === undefined) return undefined;
  return String(v)
    .split(',')
    .map((k) => k.trim());
}

export function tableCommand(yargs: Argv): Argv {
  return yargs.command(
    'table',
    "pivot a sweep's results: mean ± std over seeds per cell, with run counts",
    (y) =>
      y
        .option('sweep', { type: 'string', demandOption: true, describe: 'sweep name' })
        .option('rows', { type: 'string', describe: "row keys, comma-separated dotted run config keys (default: the sweep's view, else algorithm, or the first varying swept key)" })
        .option('cols', { type: 'string', describe: "column keys (default: the sweep's view, else the other swept keys that vary across rows, except seed)" })
        .option('metric', { type: 'string', choices: METRICS, describe: "metric (default: the sweep's view, else test_accuracy when the runs have it, else weight_error)" })
        .option('epoch', {
          type: 'string',
          choices: EPOCH_CHOICES,
          describe: "each run's final epoch (default, or the sweep's view), its best (max accuracy, min loss/error), or tail: its mean over the last 20 % of epochs",
        })
        .option('stat', { type: 'string', choices: STATS, describe: "per cell: mean ± std [95 % interval of the mean] (default, or the sweep's view), or median [min, max] over seeds" })
        .option('format', { type: 'string', choices: ['md', 'csv', 'json'], default: 'md', describe: 'markdown table, one CSV line per cell, or a JSON array of cells (all in the unit the title prints: accuracies in %)' })
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
      for (const w of [...table.warnings, ...table.referenceWarnings]) process.stderr.write(`aimc-sweep: warning: ${w}\n`);
      writeStdout(argv.format === 'csv' ? formatPivotCsv(table) : formatPivotJson(table));
    },
  );
}
