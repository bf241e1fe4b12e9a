/**
 * `aimc-sweep run <sweep.yaml> [--db results.db] [--threads N] [--retry-failed]`: embedded
 * mode. Expands the sweep, records it (insert-or-ignore by run hash), runs what is not done on
 * the local thread pool with a progress display, then prints the sweep's table. Killing it at
 * any moment and running the same command again resumes.
 *
 * `--dry-run` computes nothing and writes nothing: it says how many runs are to compute, how many
 * are stored, and what they would cost (src/cli/dry-run.ts).
 *
 * Exit codes: 0 when every run of the sweep is done or failed; 130 interrupted; 2 bad input, a
 * database another live process owns, or the writer lock lost to another process (this one was
 * suspended); 1 when the disk failed a write (one line; the lock is released, nothing stored is
 * lost, the same command resumes).
 */
import type { Argv } from 'yargs';
import { runEmbedded } from '../coordinator/embedded.ts';
import { Scheduler } from '../coordinator/scheduler.ts';
import { renderSweepTable } from '../report/pivot.ts';
import { type Db, openStore } from '../store/open.ts';
import { expandSweep } from '../sweep/expand.ts';
import { readSweepFile, type SweepSpec } from '../sweep/spec.ts';
import { defaultThreads, SimulationPool } from '../worker/pool.ts';
import { sweepWarnings } from '../diagnostics/sweep-warnings.ts';
import { dryRunReport } from './dry-run.ts';
import { MAX_RUNS_OPTION, maxRunsFrom, UsageError } from './errors.ts';
import { commandLine, sameCommandLine } from './invocation.ts';
import { ProgressDisplay } from './progress.ts';
import { runLabel } from './run-label.ts';
import { datasetShape, reportScheduleWarnings, STRICT_OPTION } from './schedule-warnings.ts';

export interface RunArgs {
  sweep: string;
  db: string;
  threads: number;
  retryFailed: boolean;
  strict: boolean;
  maxRuns?: number;
  /** say what would be computed and its cost; compute and write nothing */
  dryRun?: boolean;
}

/**
 * The run command's body; returns the exit code (0 every run done or failed, 1 runs left that
 * this process could not finish, 130 interrupted). What ends it early is thrown, and main.ts maps
 * it to its exit code: bad input and unusable databases 2, the disk failing a write 1.
 */
export async function runSweepCommand(args: RunArgs): Promise<number> {
  const spec: SweepSpec = readSweepFile(args.sweep);
  const expansion = expandSweep(spec, { maxRuns: args.maxRuns });
  reportScheduleWarnings(sweepWarnings(expansion.runs, datasetShape), args.strict);
  if (args.dryRun) {
    process.stdout.write(
      dryRunReport({
        name: spec.name,
        runs: expansion.runs,
        db: args.db,
        retryFailed: args.retryFailed,
        threads: args.threads,
      }),
    );
    return 0;
  }
  const db: Db = openStore(args.db);
  let scheduler: Scheduler | undefined;
  try {
    scheduler = new Scheduler(db, { file: args.db });
    if (scheduler.tookOver) {
      process.stderr.write(
        `${args.db}: took the writer lock over from ${scheduler.tookOver.owner} (${scheduler.tookOver.why})\n`,
      );
    }
    const recorded = scheduler.submit(spec, expansion);
    if (recorded.definitionChanged) {
      process.stderr.write(
        `${spec.name}: definition changed since it was last recorded: ${recorded.joined} runs joined, ` +
          `${recorded.left} left (their results stay in the database)\n`,
      );
    }
    const retried = args.retryFailed ? scheduler.retryFailed(recorded.sweepId) : 0;
    const before = scheduler.counts(recorded.sweepId);
    const toRun = before.queued + before.running;
    process.stderr.write(
      `${spec.name}: ${recorded.total} runs (${recorded.newRuns} new in ${args.db}): ${before.done} done, ` +
        `${before.failed} failed` +
        `${retried > 0 ? `, ${retried} failed re-queued` : ''}, ${toRun} to run on ${args.threads} ` +
        `thread${args.threads === 1 ? '' : 's'}\n`,
    );

    let interrupted = false;
    if (toRun > 0) {
      const labels = new Map(expansion.runs.map((r) => [r.hash, runLabel(r)]));
      const display = new ProgressDisplay({ sweep: spec.name, counts: before, labels, out: process.stderr });
      scheduler.events.on('event', display.onEvent);
      const pool = new SimulationPool(args.threads);
      const stop = new AbortController();
      const onSignal = (): void => {
        if (stop.signal.aborted) process.exit(130); // a second Ctrl-C: leave now
        // the bar stops first: nothing draws over this line
        display.interrupt('stopping: cancelling the runs in flight (Ctrl-C again to quit at once)\n');
        stop.abort();
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      try {
        interrupted = (await runEmbedded({ scheduler, sweepId: recorded.sweepId, pool, signal: stop.signal }))
          .interrupted;
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        display.stop();
        await pool.destroy();
      }
    }

    const after = scheduler.counts(recorded.sweepId);
    if (interrupted) {
      process.stderr.write(
        `interrupted: ${after.done} of ${recorded.total} runs done, ${after.failed} failed; nothing is lost. ` +
          `Resume with the same command:\n` +
          `  ${sameCommandLine()}\n`,
      );
      return 130;
    }
    const left = after.queued + after.running;
    if (left > 0) {
      // not ours to finish here (leased by a coordinator that is gone, say): never report success
      process.stderr.write(
        `aimc-sweep: ${args.db}: ${left} run${left === 1 ? '' : 's'} of ${spec.name} still ` +
          `${after.running > 0 ? 'leased' : 'queued'} after the sweep ended here` +
          `; run the same command again to finish ${left === 1 ? 'it' : 'them'}: ${sameCommandLine()}\n`,
      );
      return 1;
    }
    try {
      process.stdout.write(`\n${renderSweepTable(db, spec.name)}\n`);
    } catch (e) {
      process.stderr.write(`(no table: ${(e as Error).message})\n`);
    }
    if (after.failed > 0) {
      process.stderr.write(
        `${after.failed} run${after.failed === 1 ? '' : 's'} failed; see: ` +
          `${commandLine('query', "SELECT hash, error FROM runs WHERE status = 'failed'", '--db', args.db)}` +
          `; re-run them with --retry-failed\n`,
      );
    }
    return 0;
  } finally {
    scheduler?.close();
    db.close();
  }
}

export function runCommand(yargs: Argv): Argv {
  return yargs.command(
    'run <sweep>',
    'run a sweep on the local thread pool, storing results in SQLite (re-running resumes)',
    (y) =>
      y
        .positional('sweep', { type: 'string', demandOption: true, describe: 'sweep definition (YAML)' })
        .option('db', { type: 'string', default: 'results.db', describe: 'results database (created if missing)' })
        .option('threads', {
          type: 'number',
          default: defaultThreads(),
          describe: 'worker threads (default: available cores)',
        })
        .option('retry-failed', {
          type: 'boolean',
          default: false,
          describe: 're-run the runs of this sweep that failed',
        })
        .option('dry-run', {
          type: 'boolean',
          default: false,
          describe: 'say what would be computed and estimate its CPU-hours; compute and write nothing',
        })
        .options(STRICT_OPTION)
        .options(MAX_RUNS_OPTION)
        .check((a) => {
          if (!Number.isInteger(a.threads) || (a.threads as number) < 1)
            throw new UsageError(`--threads: expected a positive integer, got ${String(a.threads)}`);
          return true;
        }),
    async (argv) => {
      process.exitCode = await runSweepCommand({
        sweep: argv.sweep as string,
        db: argv.db,
        threads: argv.threads,
        retryFailed: argv['retry-failed'],
        strict: argv.strict,
        maxRuns: maxRunsFrom(argv['max-runs']),
        dryRun: argv['dry-run'],
      });
    },
  );
}
