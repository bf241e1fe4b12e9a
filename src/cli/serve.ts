/**
 * `aimc-sweep serve [--db results.db] [--listen 127.0.0.1:50051] [--token-file f]
 * [--tls-cert f --tls-key f]`: the coordinator. It owns the database (single writer) and
 * leases runs to workers over gRPC; binds to loopback unless told otherwise. SIGINT/SIGTERM
 * stop it; leases stay in the database and expire, so a restart on the same database resumes.
 */
import type { Argv } from 'yargs';
import { Scheduler } from '../coordinator/scheduler.ts';
import { Coordinator } from '../coordinator/service.ts';
import { openStore } from '../store/open.ts';
import { checkAddress, readToken, serverCredentialsFrom } from './connection.ts';

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
        .option('listen', { type: 'string', default: '127.0.0.1:50051', describe: 'address to listen on (host:port; 0.0.0.0 for every interface)' })
        .option('token-file', { type: 'string', describe: 'require this shared token (file with one line) from every worker and client' })
        .option('tls-cert', { type: 'string', describe: 'serve TLS with this PEM certificate chain' })
        .option('tls-key', { type: 'string', describe: 'private key (PEM) of --tls-cert' })
        .option('lease-ttl', { type: 'number', default: 30, describe: 'seconds a lease lives without heartbeats' })
        .option('max-lost-leases', { type: 'number', default: 3, describe: 'a run whose lease is lost this many times fails' }),
    async (argv) => {
      const listen = checkAddress('--listen', argv.listen, true);
      const token = readToken(argv['token-file']);
      const credentials = serverCredentialsFrom(argv['tls-cert'], argv['tls-key']);
      if (!(argv['lease-ttl'] > 0)) throw new Error(`--lease-ttl: expected a positive number of seconds, got ${argv['lease-ttl']}`);
      const db = openStore(argv.db);
      const scheduler = new Scheduler(db, { file: argv.db, leaseTtlMs: argv['lease-ttl'] * 1000, maxLostLeases: argv['max-lost-leases'], orphans: 'expire' });
      const coordinator = new Coordinator({ scheduler, db, token, log });
      let port: number;
      try {
        port = await coordinator.listen(listen, credentials);
      } catch (e) {
        await coordinator.close(0);
        scheduler.close();
        db.close();
        throw new Error(`--listen ${listen}: ${(e as Error).message}`);
      }
      const host = listen.slice(0, listen.lastIndexOf(':'));
      log(`coordinator listening on ${host}:${port} (${argv.db}${token ? ', token required' : ''}${argv['tls-cert'] ? ', TLS' : ''})`);
      if (!token && !/^(127\.|\[::1\]|localhost)/.test(host)) log('warning: listening beyond loopback without --token-file: anyone who can reach this port can submit and lease runs');
      await new Promise<void>((resolve) => {
        const stop = (): void => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          log('stopping: leases stay in the database and expire; serve again on the same --db to resume');
          resolve();
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
      await coordinator.close();
      scheduler.close();
      db.close();
    },
  );
}
