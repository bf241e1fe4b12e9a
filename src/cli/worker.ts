/**
 * `aimc-sweep worker --coordinator host:port [--threads N] [--token-file f] [--tls-ca f]`: a
 * worker node with its own thread pool. It reconnects with backoff when the coordinator is
 * unreachable; SIGTERM (or Ctrl-C) drains it: no new leases, runs not started are handed back,
 * the others finish, then it exits 0. A second signal exits at once.
 */
import type { Argv } from 'yargs';
import { WorkerAgent } from '../worker/agent.ts';
import { defaultThreads, SimulationPool } from '../worker/pool.ts';
import { CLIENT_OPTIONS, channelCredentialsFrom, checkAddress, coordinatorError, readToken } from './connection.ts';
import { UsageError } from './errors.ts';

const log = (line: string): void => {
  process.stderr.write(`${new Date().toISOString()} worker ${process.pid}: ${line}\n`);
};

export function workerCommand(yargs: Argv): Argv {
  return yargs.command(
    'worker',
    'run a worker node: lease runs from a coordinator onto a local thread pool',
    (y) =>
      y
        .option('coordinator', { type: 'string', demandOption: true, describe: 'coordinator address host:port' })
        .option('threads', {
          type: 'number',
          default: defaultThreads(),
          describe: 'worker threads (default: available cores)',
        })
        .option('name', { type: 'string', describe: 'name shown by status (default host:pid)' })
        .options(CLIENT_OPTIONS)
        .check((a) => {
          if (!Number.isInteger(a.threads) || (a.threads as number) < 1)
            throw new UsageError(`--threads: expected a positive integer, got ${String(a.threads)}`);
          return true;
        }),
    async (argv) => {
      const coordinator = checkAddress('--coordinator', argv.coordinator);
      const token = readToken(argv['token-file']);
      const credentials = channelCredentialsFrom(argv['tls-ca'], argv.tls);
      const pool = new SimulationPool(argv.threads);
      const agent = new WorkerAgent({ coordinator, pool, credentials, token, name: argv.name, log });
      let signals = 0;
      const onSignal = (): void => {
        if (++signals > 1) process.exit(130);
        log('draining (a second signal exits at once)');
        agent.drain();
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      try {
        await agent.run();
        log('drained; exiting');
      } catch (e) {
        // retrying cannot fix these (wrong token, other numerics version): say why and stop
        throw coordinatorError(coordinator, e);
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        await pool.destroy();
      }
    },
  );
}
