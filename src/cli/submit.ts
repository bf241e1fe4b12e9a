/**
 * `aimc-sweep submit <sweep.yaml> --coordinator host:port [--wait]`: validates a sweep locally
 * (errors with file:line, exit 2), submits it to a running coordinator and, with --wait,
 * follows its progress until no run is left to run. `--dry-run` contacts no coordinator: it says
 * how many runs the sweep has and what they would cost (src/cli/dry-run.ts; with --db, the
 * coordinator's database read-only, which of them are stored).
 *
 * `--wait` ends like `run`: with the sweep's table, read from --db (the coordinator's database,
 * read-only) when this host can read it. The coordinator's RPCs carry no results (Watch's
 * RunEvent: hash, status, error, attempt; GetStatus: run counts), so without --db the command
 * says how to get the table instead.
 */
import type { Argv } from 'yargs';
import { createClient } from '../rpc/bridge.ts';
import { watchUpdateFromWire } from '../rpc/convert.ts';
import { SweepService } from '../rpc/services.ts';
import { sweepWarnings } from '../diagnostics/sweep-warnings.ts';
import { type Expansion, expandSweep } from '../sweep/expand.ts';
import { parseSweepText, readSweepText, SweepError } from '../sweep/spec.ts';
import {
  awaitCoordinator,
  CLIENT_OPTIONS,
  channelCredentialsFrom,
  checkAddress,
  coordinatorError,
  readToken,
} from './connection.ts';
import { MAX_RUNS_OPTION, maxRunsFrom, UsageError } from './errors.ts';
import { datasetShape, reportScheduleWarnings, STRICT_OPTION } from './schedule-warnings.ts';
import { dryRunReport } from './dry-run.ts';
import { renderSweepTable } from '../report/pivot.ts';
import { closeReadonlyStore, openStoreReadonly, StoreError } from '../store/open.ts';
import { withReadonlyStore } from './read-command.ts';

export function submitCommand(yargs: Argv): Argv {
  return yargs.command(
    'submit <sweep>',
    'submit a sweep to a running coordinator (--wait: follow it until finished)',
    (y) =>
      y
        .positional('sweep', { type: 'string', demandOption: true, describe: 'sweep definition (YAML)' })
        .option('coordinator', {
          type: 'string',
          describe: 'coordinator address host:port (required unless --dry-run)',
        })
        .option('wait', {
          type: 'boolean',
          default: false,
          describe: "follow progress until every run is done or failed; then the sweep's table (with --db)",
        })
        .option('connect-timeout', {
          type: 'number',
          default: 20,
          describe: 'seconds to wait for a coordinator that is not listening yet',
        })
        .option('dry-run', {
          type: 'boolean',
          default: false,
          describe: 'contact no coordinator: say how many runs the sweep has and estimate their CPU-hours',
        })
        .option('db', {
          type: 'string',
          describe:
            "the coordinator's results database, read-only, where this host can read it: with --dry-run to " +
            "leave out the runs it has stored; with --wait to print the sweep's table at the end",
        })
        .options(STRICT_OPTION)
        .options(MAX_RUNS_OPTION)
        .options(CLIENT_OPTIONS)
        .check((a) => {
          if (!a['dry-run'] && a.coordinator === undefined)
            throw new UsageError('Missing required argument: coordinator (or --dry-run)');
          if (a.db !== undefined && !a['dry-run'] && !a.wait)
            throw new UsageError(
              '--db: only with --dry-run or --wait (the coordinator owns its database; it is only read)',
            );
          return true;
        }),
    async (argv) => {
      const file = argv.sweep as string;
      let yaml: string;
      let expansion: Expansion;
      let name: string;
      try {
        yaml = readSweepText(file); // at most 1 MiB, UTF-8
        // the coordinator validates again (with its own limit of runs); this gives local line numbers first
        const spec = parseSweepText(yaml, file);
        name = spec.name;
        expansion = expandSweep(spec, { maxRuns: maxRunsFrom(argv['max-runs']) });
      } catch (e) {
        if (e instanceof SweepError) throw new UsageError(e.message);
        throw e;
      }
      reportScheduleWarnings(sweepWarnings(expansion.runs, datasetShape), argv.strict);
      if (argv['dry-run']) {
        // the coordinator re-runs no failed run: those stored stay failed
        process.stdout.write(dryRunReport({ name, runs: expansion.runs, db: argv.db, retryFailed: false }));
        return;
      }
      if (argv.coordinator === undefined) throw new UsageError('--coordinator: required');
      const tableDb = argv.wait ? argv.db : undefined;
      if (tableDb !== undefined) {
        // before submitting: a wrong path should not cost the whole wait
        try {
          closeReadonlyStore(openStoreReadonly(tableDb));
        } catch (e) {
          if (e instanceof StoreError) throw new UsageError(`--db: ${e.message}`);
          throw e;
        }
      }
      const client = createClient(
        SweepService,
        checkAddress('--coordinator', argv.coordinator),
        channelCredentialsFrom(argv['tls-ca'], argv.tls),
        {
          token: readToken(argv['token-file']),
        },
      );
      try {
        const seconds = argv['connect-timeout'];
        if (!(seconds >= 0))
          throw new UsageError(`--connect-timeout: expected a number of seconds >= 0, got ${String(seconds)}`);
        await awaitCoordinator(client, argv.coordinator, seconds);
        const r = await client.submit({ fileName: file, specYaml: yaml }, { deadline: Date.now() + 30_000 });
        process.stdout.write(
          `${r.sweepName}: submitted to ${argv.coordinator}: ${r.totalRuns} runs (${r.newRuns} new, ` +
            `${r.doneRuns} already done)\n`,
        );
        if (!argv.wait) return;
        let failed = 0;
        for await (const message of client.watch({ sweepName: r.sweepName })) {
          const update = watchUpdateFromWire(message);
          if (!update) continue;
          const c = update.counts;
          const total = c.queued + c.running + c.done + c.failed;
          if (update.run) {
            const { lease, status, error } = update.run;
            if (status === 'failed') failed++;
            const what = status === 'done' ? 'done' : `FAILED: ${error}`;
            process.stdout.write(
              `[${c.done + c.failed}/${total}] ${lease.hash.slice(0, 12)}#${lease.attempt} ${what}\n`,
            );
          }
        }
        process.stdout.write(`${r.sweepName}: finished${failed > 0 ? ` (${failed} failed while watching)` : ''}\n`);
        if (tableDb === undefined) {
          process.stdout.write(
            `${r.sweepName}: its table: aimc-sweep table --sweep ${r.sweepName} --db <the coordinator's ` +
              `database>; or submit --wait --db FILE where this host can read it\n`,
          );
          return;
        }
        let table: string;
        try {
          table = withReadonlyStore(tableDb, (db) => renderSweepTable(db, r.sweepName));
        } catch (e) {
          if (e instanceof UsageError)
            throw new UsageError(
              `${e.message} (is --db ${tableDb} the database of the coordinator at ${argv.coordinator}?)`,
            );
          throw e;
        }
        process.stdout.write(`\n${table}\n`);
      } catch (e) {
        throw coordinatorError(argv.coordinator, e);
      } finally {
        client.$close();
      }
    },
  );
}
