/**
 * `aimc-sweep query "SELECT ..." [--db results.db] [--format table|csv|json]`: one read-only SQL
 * statement over the results; statements that write or return no rows are refused (exit 2).
 */
import type { Argv } from 'yargs';
import { csvLine, textTable } from '../report/format.ts';
import { readonlyQuery, type QueryResult } from '../store/results-read.ts';
import { UsageError } from './errors.ts';
import { DEFAULT_DB, withReadonlyStore, writeStdout } from './read-command.ts';

function cellText(v: unknown): string {
  if (v === null || v === undefined) return 'NULL';
  if (Buffer.isBuffer(v)) return `x'${v.toString('hex')}'`;
  return String(v);
}

function jsonValue(v: unknown): unknown {
  if (Buffer.isBuffer(v)) return v.toString('hex');
  if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
  return v;
}

/** Column names made unique for JSON objects (`hash`, `hash:2`). */
function uniqueNames(columns: readonly string[]): string[] {
  const seen = new Map<string, number>();
  return columns.map((c) => {
    const n = (seen.get(c) ?? 0) + 1;
    seen.set(c, n);
    return n === 1 ? c : `${c}:${n}`;
  });
}

export function formatQuery(r: QueryResult, format: string): string {
  if (format === 'csv') {
    const field = (v: unknown) => (Buffer.isBuffer(v) ? v.toString('hex') : v);
    return csvLine(r.columns) + r.rows.map((row) => csvLine(row.map(field))).join('');
  }
  if (format === 'json') {
    const names = uniqueNames(r.columns);
    const objects = r.rows.map((row) => Object.fromEntries(names.map((n, i) => [n, jsonValue(row[i])])));
    return JSON.stringify(objects, null, 2) + '\n';
  }
  const numeric = (i: number) => r.rows.every((row) => typeof row[i] === 'number' || row[i] === null);
  const right = r.columns.map((_, i) => r.rows.length > 0 && numeric(i));
  const body = textTable(
    r.columns,
    r.rows.map((row) => row.map(cellText)),
    right,
  );
  return `${body}(${r.rows.length} row${r.rows.length === 1 ? '' : 's'})\n`;
}

export function queryCommand(yargs: Argv): Argv {
  return yargs.command(
    'query <sql>',
    'run one read-only SQL statement over the results database and print its rows',
    (y) =>
      y
        .positional('sql', {
          type: 'string',
          demandOption: true,
          describe: 'one SELECT (or WITH ... SELECT, read-only PRAGMA) statement',
        })
        .option('db', { type: 'string', default: DEFAULT_DB, describe: 'results database' })
        .option('format', {
          type: 'string',
          choices: ['table', 'csv', 'json'],
          default: 'table',
          describe: 'aligned text, CSV or a JSON array of row objects',
        }),
    (argv) => {
      const sql = argv.sql as string;
      if (sql.trim() === '') throw new UsageError('query: give an SQL statement');
      const result = withReadonlyStore(argv.db, (db) => readonlyQuery(db, sql));
      writeStdout(formatQuery(result, argv.format));
    },
  );
}
