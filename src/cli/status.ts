/**
 * `aimc-sweep status [--db results.db | --coordinator host:port] [--json]`: every sweep with
 * its runs by state, progress, throughput and ETA, and the workers: read from the database, or
 * asked of a running coordinator (which also knows which workers are connected right now).
 *
 * A worker's slots are the runs it computes at once (its --threads); free is how many of them
 * are idle. (A worker holds up to LEASES_PER_THREAD leases per thread, one running and the others
 * queued, and announces its free leases to the coordinator, which stores them: status turns them
 * back into idle threads.)
 */
import type { Argv } from 'yargs';
import { formatStatus, type StatusReport, statusReport } from '../report/status.ts';
import { createClient } from '../rpc/bridge.ts';
import { statusFromWire } from '../rpc/convert.ts';
import { SweepService } from '../rpc/services.ts';
import { CLIENT_OPTIONS, channelCredentialsFrom, checkAddress, coordinatorError, readToken } from './connection.ts';
import { LEASES_PER_THREAD } from '../worker/pool.ts';
import { DEFAULT_DB, withReadonlyStore, writeStdout } from './read-command.ts';

/** Idle threads of a worker from the free leases it announced (slots x LEASES_PER_THREAD - held). */
export function idleSlots(slots: number, freeLeases: number): number {
  return Math.max(0, Math.min(slots, freeLeases - (LEASES_PER_THREAD - 1) * slots));
}

async function coordinatorStatus(
  address: string,
  tokenFile: string | undefined,
  ca: string | undefined,
  tls: boolean,
): Promise<StatusReport> {
  const client = createClient(SweepService, checkAddress('--coordinator', address), channelCredentialsFrom(ca, tls), {
    token: readToken(tokenFile),
  });
  try {
    const r = await client.getStatus({}, { deadline: Date.now() + 10_000 });
    return statusFromWire(r, Date.now());
  } catch (e) {
    throw coordinatorError(address, e);
  } finally {
    client.$close();
  }
}

export function statusCommand(yargs: Argv): Argv {
  return yargs.command(
    'status',
    'sweeps with run counts by state, progress, throughput and ETA; workers',
    (y) =>
      y
        .option('db', { type: 'string', default: DEFAULT_DB, describe: 'results database' })
        .option('coordinator', {
          type: 'string',
          describe: 'ask a running coordinator (host:port) instead of reading --db',
        })
        .options(CLIENT_OPTIONS)
        .option('json', { type: 'boolean', default: false, describe: 'print the report as JSON' }),
    async (argv) => {
      const report = argv.coordinator
        ? await coordinatorStatus(argv.coordinator, argv['token-file'], argv['tls-ca'], argv.tls)
        : withReadonlyStore(argv.db, (db) => {
            const r = statusReport(db, Date.now());
            return {
              ...r,
              workers: r.workers.map((w) => ({ ...w, free_slots: w.connected ? idleSlots(w.slots, w.free_slots) : 0 })),
            };
          });
      writeStdout(
        argv.json ? JSON.stringify(report, null, 2) + '\n' : formatStatus(report, argv.coordinator ?? argv.db),
      );
    },
  );
}
