#!/usr/bin/env node
/** The `aimc-sweep` command line: one file per command, wired here. */
import yargs, { type Argv } from 'yargs';
import { hideBin } from 'yargs/helpers';
import { DivergedError } from '../core/train.ts';
import { StoreFailure } from '../store/errors.ts';
import { isInputError, UsageError } from './errors.ts';
import { expandCommand } from './expand.ts';
import { exportCommand } from './export.ts';
import { plotCommand } from './plot.ts';
import { queryCommand } from './query.ts';
import { reportCommand } from './report.ts';
import { runCommand } from './run.ts';
import { serveCommand } from './serve.ts';
import { simulateCommand } from './simulate.ts';
import { statusCommand } from './status.ts';
import { submitCommand } from './submit.ts';
import { tableCommand } from './table.ts';
import { workerCommand } from './worker.ts';

async function main(): Promise<void> {
  let cli: Argv = yargs(hideBin(process.argv))
    .scriptName('aimc-sweep')
    .strict()
    .demandCommand(1, 'name a command (see --help)')
    .option('debug', { type: 'boolean', default: false, global: true, describe: 'print the JavaScript stack trace of an error (for bug reports; also AIMC_DEBUG=1)' })
    .fail((msg, err) => {
      throw err ?? new UsageError(msg);
    })
    .help();
  cli = simulateCommand(cli);
  cli = expandCommand(cli);
  cli = runCommand(cli);
  cli = serveCommand(cli);
  cli = workerCommand(cli);
  cli = submitCommand(cli);
  cli = statusCommand(cli);
  cli = tableCommand(cli);
  cli = queryCommand(cli);
  cli = exportCommand(cli);
  cli = plotCommand(cli);
  cli = reportCommand(cli);
  await cli.parseAsync();
}

/** Stack traces are for bug reports: only with --debug or AIMC_DEBUG=1. */
const debug = process.env.AIMC_DEBUG === '1' || process.argv.slice(2, process.argv.includes('--') ? process.argv.indexOf('--') : undefined).some((a) => a === '--debug' || a === '--debug=true');
// the coordinator's log reads it too
if (debug) process.env.AIMC_DEBUG = '1';

/** One line for an error that is not the user's input: its message, or its trace with --debug. */
function reportFailure(e: unknown): void {
  if (debug) {
    process.stderr.write(`aimc-sweep: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    return;
  }
  const message = e instanceof Error ? e.message : String(e);
  const firstLine = message.split('\n')[0] || (e instanceof Error ? e.name : 'error');
  process.stderr.write(`aimc-sweep: ${firstLine} (run with --debug for the trace)\n`);
}

// a reader that went away (`| head`) ends the command quietly
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code !== 'EPIPE') {
    reportFailure(e);
    process.exit(1);
  }
  process.exit(process.exitCode ?? 0);
});

// an error outside the command's promise (a stream or timer callback) is reported the same way
process.on('uncaughtException', (e) => {
  if (isInputError(e)) process.stderr.write(`aimc-sweep: ${e.message}\n`);
  else reportFailure(e);
  process.exit(isInputError(e) ? 2 : 1);
});

main().catch((e: unknown) => {
  if (isInputError(e)) {
    process.stderr.write(`aimc-sweep: ${e.message}\n`);
    if (debug && e.stack) process.stderr.write(`${e.stack}\n`);
    process.exitCode = 2;
  } else if (e instanceof DivergedError) {
    process.stderr.write(`aimc-sweep: ${e.message} (a smaller lr may help)\n`);
    process.exitCode = 1;
  } else if (e instanceof StoreFailure) {
    // the environment, not a bug (a full disk): its one line says what to do
    process.stderr.write(`aimc-sweep: ${e.message}\n`);
    process.exitCode = 1;
  } else {
    reportFailure(e);
    process.exitCode = 1;
  }
});
