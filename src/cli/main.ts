#!/usr/bin/env node
/** The `aimc-sweep` command line: one file per command, wired here. */
import yargs, { type Argv } from 'yargs';
import { hideBin } from 'yargs/helpers';
import { exitCodeOf, failureLine, unexpectedFailureLine, UsageError } from './errors.ts';

type Register = (yargs: Argv) => Argv;

/**
 * The commands, in --help order, each loaded when needed: a command line that names one loads
 * only its module (`simulate` does not load gRPC), anything else (--help, a typo) all of them.
 */
const COMMANDS: Record<string, () => Promise<Register>> = {
  simulate: async () => (await import('./simulate.ts')).simulateCommand,
  expand: async () => (await import('./expand.ts')).expandCommand,
  run: async () => (await import('./run.ts')).runCommand,
  serve: async () => (await import('./serve.ts')).serveCommand,
  worker: async () => (await import('./worker.ts')).workerCommand,
  submit: async () => (await import('./submit.ts')).submitCommand,
  status: async () => (await import('./status.ts')).statusCommand,
  table: async () => (await import('./table.ts')).tableCommand,
  query: async () => (await import('./query.ts')).queryCommand,
  export: async () => (await import('./export.ts')).exportCommand,
  plot: async () => (await import('./plot.ts')).plotCommand,
  report: async () => (await import('./report.ts')).reportCommand,
};

async function main(): Promise<void> {
  let cli: Argv = yargs(hideBin(process.argv))
    .scriptName('aimc-sweep')
    .strict()
    .demandCommand(1, 'name a command (see --help)')
    .option('debug', {
      type: 'boolean',
      default: false,
      global: true,
      describe: 'print the JavaScript stack trace of an error (for bug reports; also AIMC_DEBUG=1)',
    })
    .fail((msg, err) => {
      throw err ?? new UsageError(msg);
    })
    .help();
  const named = hideBin(process.argv).find((a) => !a.startsWith('-'));
  const load = named !== undefined && Object.hasOwn(COMMANDS, named) ? [COMMANDS[named]] : Object.values(COMMANDS);
  for (const register of await Promise.all(load.map((f) => f()))) cli = register(cli);
  await cli.parseAsync();
}

/** Stack traces are for bug reports: only with --debug or AIMC_DEBUG=1. */
const debug =
  process.env.AIMC_DEBUG === '1' ||
  process.argv
    .slice(2, process.argv.includes('--') ? process.argv.indexOf('--') : undefined)
    .some((a) => a === '--debug' || a === '--debug=true');
// the coordinator's log reads it too
if (debug) process.env.AIMC_DEBUG = '1';

// a reader that went away (`| head`) ends the command quietly
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code !== 'EPIPE') {
    process.stderr.write(`aimc-sweep: ${unexpectedFailureLine(e, debug)}\n`);
    process.exit(1);
  }
  process.exit(process.exitCode ?? 0);
});

// an error outside the command's promise (a stream or timer callback): the same line and exit
// code as one that ends the command (a disk that fills up in a callback is still one line)
process.on('uncaughtException', (e) => {
  process.stderr.write(`aimc-sweep: ${failureLine(e, debug)}\n`);
  process.exit(exitCodeOf(e));
});

// every error that ends a command: one line (src/cli/errors.ts) and the exit code of src/errors.ts
main().catch((e: unknown) => {
  process.stderr.write(`aimc-sweep: ${failureLine(e, debug)}\n`);
  process.exitCode = exitCodeOf(e);
});
