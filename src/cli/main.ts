#!/usr/bin/env node
/** The `aimc-sweep` command line: one file per command, wired here. */
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { DivergedError } from '../core/train.ts';
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
  let cli = yargs(hideBin(process.argv))
    .scriptName('aimc-sweep')
    .strict()
    .demandCommand(1, 'name a command (see --help)')
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

// a reader that went away (`| head`) ends the command quietly
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code !== 'EPIPE') throw e;
  process.exit(process.exitCode ?? 0);
});

main().catch((e: unknown) => {
  if (isInputError(e)) {
    process.stderr.write(`aimc-sweep: ${e.message}\n`);
    process.exitCode = 2;
  } else if (e instanceof DivergedError) {
    process.stderr.write(`aimc-sweep: ${e.message} (a smaller lr may help)\n`);
    process.exitCode = 1;
  } else {
    process.stderr.write(`aimc-sweep: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exitCode = 1;
  }
});
