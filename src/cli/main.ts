#!/usr/bin/env node
/** The `aimc-sweep` command line: one file per command, wired here. */
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { UsageError } from './errors.ts';
import { expandCommand } from './expand.ts';
import { simulateCommand } from './simulate.ts';

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
  await cli.parseAsync();
}

main().catch((e: unknown) => {
  const usage = e instanceof UsageError;
  process.stderr.write(`aimc-sweep: ${e instanceof Error ? (usage ? e.message : (e.stack ?? e.message)) : String(e)}\n`);
  process.exitCode = usage ? 2 : 1;
});
