/**
 * `aimc-sweep serve [--db results.db] [--listen 127.0.0.1:50051] [--token-file f]
 * [--tls-cert f --tls-key f]`: the coordinator. It owns the database (single writer) and
 * leases runs to workers over gRPC; binds to loopback unless told otherwise. SIGINT/SIGTERM
 * stop it; leases stay in the database and expire, so a restart on the same database resumes.
 * When the store stops it (the writer lock taken over by another coordinator while this one was
 * suspended: exit 2; the disk failed a write: exit 1), it says so in one line and exits.
 */
import type { Argv } from 'yargs';
import { Scheduler } from '../coordinator/scheduler.ts';
import { Coordinator } from '../coordinator/service.ts';
import { openStore } from '../store/open.ts';
import { checkAddress, readToken, serverCredentialsFrom } from './connection.ts';
import { UsageError } from './errors.ts';

const log = (line: string): void => {
  process.stderr.write(`${new Date().toISOString()} ${line}\n`);
};

export function serveCommand(yargs: Argv): Argv {
  return yargs.command(
    'serve',
    'run the coordinator: lease runs to workers over gRPC, store results in SQLite',
    (y) =>
      y
        .option('db', { type: 'string', default: 'results.db', describe: 'results database (created if missing)' })
        .option('listen', {
          type: 'string',
          default: '127.0.0.1:50051',
          describe: 'address to listen on (host:port; 0.0.0.0 for every interface)',
        })
        .option('token-file', {
          type: 'string',
          describe: 'require this shared token (file with one line) from every worker and client',
        })
        .option('tls-cert', { type: 'string', describe: 'serve TLS with this PEM certificate chain' })
        .option('tls-key', { type: 'string', describe: 'private key (PEM) of --tls-cert' })
        .option('lease-ttl', { type: 'number', default: 30, describe: 'seconds a lease lives without heartbeats' })
        .option('max-lost-leases', {
          type: 'number',
          default: 3,
          describe: 'a run whose lease is lost this many times fails',
        }),
    // what stops it (the writer lock lost: 2; the disk failing a write: 1) is thrown, and
    // main.ts says it in one line with its exit code
    (argv) => serve(argv),
  );
}

interface ServeArgs {
  db: string;
  listen: string;
  'token-file'?: string;
  'tls-cert'?: string;
  'tls-key'?: string;
  'lease-ttl': number;
  'max-lost-leases': number;
}

async function serve(argv: ServeArgs): Promise<void> {
  const listen = checkAddress('--listen', argv.listen, true);
  const token = readToken(argv['token-file']);
  const credentials = serverCredentialsFrom(argv['tls-cert'], argv['tls-key']);
  if (!(argv['lease-ttl'] > 0))
    throw new UsageError(`--lease-ttl: expected a positive number of seconds, got ${argv['lease-ttl']}`);
  const db = openStore(argv.db);
  let scheduler: Scheduler;
  try {
    scheduler = new Scheduler(db, {
      file: argv.db,
      leaseTtlMs: argv['lease-ttl'] * 1000,
      maxLostLeases: argv['max-lost-leases'],
      orphans: 'expire',
    });
  } catch (e) {
    db.close();
    throw e;
  }
  if (scheduler.tookOver)
    log(`took the writer lock of ${argv.db} over from ${scheduler.tookOver.owner} (${scheduler.tookOver.why})`);
  const coordinator = new Coordinator({ scheduler, token, log });
  let port: number;
  try {
    port = await coordinator.listen(listen, credentials);
  } catch (e) {
    await closeAll(coordinator, 0);
    scheduler.close();
    db.close();
    throw new UsageError(`--listen ${listen}: ${(e as Error).message}`);
  }
  const host = listen.slice(0, listen.lastIndexOf(':'));
  log(
    `coordinator listening on ${host}:${port} ` +
      `(${argv.db}${token ? ', token required' : ''}${argv['tls-cert'] ? ', TLS' : ''})`,
  );
  if (!token && !/^(127\.|\[::1\]|localhost)/.test(host))
    log(
      'warning: listening beyond loopback without --token-file: anyone who can reach this port can submit and ' +
        'lease runs',
    );
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      scheduler.failed.removeEventListener('abort', failed);
      resolve();
    };
    const signalled = (): void => {
      log('stopping: leases stay in the database and expire; serve again on the same --db to resume');
      stop();
    };
    const failed = (): void => {
      log('stopping: this coordinator may not write the database any more (why: the last line)');
      stop();
    };
    process.on('SIGINT', signalled);
    process.on('SIGTERM', signalled);
    if (scheduler.failed.aborted) failed();
    else scheduler.failed.addEventListener('abort', failed);
  });
  await closeAll(coordinator);
  scheduler.close();
  db.close();
  if (scheduler.failed.aborted) throw scheduler.failed.reason as Error;
}

/** Stops serving; after a store failure the sessions' last writes are refused, which changes nothing. */
async function closeAll(coordinator: Coordinator, graceMs?: number): Promise<void> {
  try {
    await coordinator.close(graceMs);
  } catch {
    // the store stopped this process's writes: the workers' rows stay as they were
  }
}
