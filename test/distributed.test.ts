/**
 * Distributed mode end to end with real processes on 127.0.0.1: a coordinator, worker nodes
 * killed (SIGKILL), drained (SIGTERM) and restarted mid-sweep, a coordinator killed and
 * restarted on the same database, workers that start before their coordinator, TLS with a
 * token; every invariant is checked against the database, and results are compared with the
 * same sweep in embedded mode.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';

const MAIN = new URL('../src/cli/main.ts', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'aimc-dist-'));
const children = new Set<ChildProcess>();
after(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

interface Proc {
  child: ChildProcess;
  log: () => string;
  exit: Promise<number | null>;
}

function start(...args: string[]): Proc {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let log = '';
  child.stdout?.on('data', (d: Buffer) => (log += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (log += d.toString()));
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, log: () => log, exit };
}

async function until(what: string, check: () => boolean, timeoutMs = 60_000): Promise<void> {
  const t0 = Date.now();
  while (!check()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function query<T>(db: string, sql: string): T[] {
  const d = new Database(db, { readonly: true });
  try {
    return d.prepare(sql).all() as T[];
  } finally {
    d.close();
  }
}
const doneCount = (db: string): number => {
  try {
    return query<{ n: number }>(db, "SELECT count(*) AS n FROM runs WHERE status = 'done'")[0].n;
  } catch {
    return 0; // not created yet
  }
};

function sweepFile(name: string, seeds: number, epochs: number): string {
  const file = join(dir, `${name}.yaml`);
  const list = Array.from({ length: seeds }, (_, i) => i + 1).join(', ');
  writeFileSync(
    file,
    `name: ${name}\nbase: { task: { in_size: 24, out_size: 12, n_samples: 100 }, epochs: ${epochs} }\ngrid: { ` +
      `seed: [${list}], algorithm: [analog-sgd, ttv2] }\n`,
  );
  return file;
}

async function serve(db: string, port: number, ...extra: string[]): Promise<Proc> {
  const p = start('serve', '--db', db, '--listen', `127.0.0.1:${port}`, '--lease-ttl', '2', ...extra);
  await until('the coordinator to listen', () => /listening on/.test(p.log()), 30_000);
  return p;
}

test(
  '60 runs over three workers, one killed with SIGKILL and one drained and replaced: every run exactly once, ' +
    'bit-identical to embedded mode',
  async () => {
    const db = join(dir, 'main.db');
    const port = await freePort();
    const address = `127.0.0.1:${port}`;
    const coordinator = await serve(db, port);
    const workers = [1, 2, 3].map((i) =>
      start('worker', '--coordinator', address, '--threads', '1', '--name', `w${i}`),
    );
    await until('three worker sessions', () => workers.every((w) => /session open/.test(w.log())));
    const file = sweepFile('sixty', 30, 30);
    const submit = start('submit', file, '--coordinator', address, '--wait');

    const heldBy = (name: string): number => {
      try {
        return query<{ n: number }>(
          db,
          `SELECT count(*) AS n FROM runs r JOIN workers w ON w.id = r.worker WHERE w.name = '${name}' AND ` +
            `r.status = 'running'`,
        )[0].n;
      } catch {
        return 0;
      }
    };
    await until('10 runs done and leases held by w1', () => doneCount(db) >= 10 && heldBy('w1') > 0);
    workers[0].child.kill('SIGKILL'); // mid-run: it holds leases
    await until('25 runs done', () => doneCount(db) >= 25);
    // w3 pauses until the replacement is connected, so that runs are left for it (runs take tens of
    // milliseconds, a worker's start seconds); meanwhile w3's leases may expire and be re-leased
    workers[2].child.kill('SIGSTOP');
    workers[1].child.kill('SIGTERM');
    assert.equal(await workers[1].exit, 0, `a drained worker exits 0\n${workers[1].log()}`);
    assert.match(workers[1].log(), /draining/);
    const replacement = start('worker', '--coordinator', address, '--threads', '1', '--name', 'w4');
    await until('the replacement session', () => /session open/.test(replacement.log()));
    workers[2].child.kill('SIGCONT');

    assert.equal(await submit.exit, 0, submit.log());
    assert.match(submit.log(), /sixty: finished/);
    const runs = query<{ hash: string; status: string; attempt: number }>(db, 'SELECT hash, status, attempt FROM runs');
    assert.equal(runs.length, 60);
    assert.ok(runs.every((r) => r.status === 'done'));
    assert.equal(query<{ n: number }>(db, 'SELECT count(*) AS n FROM results')[0].n, 60);
    assert.equal(
      query<{ n: number }>(db, 'SELECT count(*) AS n FROM epoch_metrics')[0].n,
      60 * 31,
      'one attempt of history per run',
    );
    assert.ok(
      runs.some((r) => r.attempt >= 2),
      'the killed worker held leases that expired and were re-leased',
    );
    assert.match(coordinator.log(), /leases expired: \d+ runs re-queued/);
    const byWorker = query<{ name: string; n: number }>(
      db,
      'SELECT w.name, count(*) AS n FROM results r JOIN workers w ON w.id = r.worker GROUP BY w.name',
    );
    assert.ok(
      byWorker.some((w) => w.name === 'w4'),
      `the replacement worked: ${JSON.stringify(byWorker)}`,
    );
    const provenance = query<{ host: string | null }>(
      db,
      'SELECT p.host FROM results r LEFT JOIN provenance p ON p.id = r.provenance_id',
    );
    assert.ok(
      provenance.every((p) => p.host !== null),
      'each result records the provenance its worker announced',
    );

    // the same sweep in embedded mode gives the same bits
    const embedded = join(dir, 'embedded.db');
    const local = spawnSync(
      process.execPath,
      ['--import', 'tsx', MAIN, 'run', file, '--db', embedded, '--threads', '2'],
      { encoding: 'utf8', timeout: 120_000 },
    );
    assert.equal(local.status, 0, local.stderr);
    const digests = (f: string): Map<string, string> =>
      new Map(
        query<{ run_hash: string; weights_digest: string }>(f, 'SELECT run_hash, weights_digest FROM results').map(
          (r) => [r.run_hash, r.weights_digest],
        ),
      );
    assert.deepEqual(digests(db), digests(embedded));

    for (const w of [workers[2], replacement]) w.child.kill('SIGTERM');
    assert.deepEqual(await Promise.all([workers[2].exit, replacement.exit]), [0, 0]);
    coordinator.child.kill('SIGTERM');
    assert.equal(await coordinator.exit, 0);
  },
);

test(
  'workers started before their coordinator connect with backoff; a coordinator killed with SIGKILL and ' +
    'restarted on the same database finishes the sweep',
  async () => {
    const db = join(dir, 'restart.db');
    const port = await freePort();
    const address = `127.0.0.1:${port}`;
    const workers = [1, 2].map((i) => start('worker', '--coordinator', address, '--threads', '1', '--name', `r${i}`));
    await until('a failed connection attempt', () => workers.every((w) => /reconnecting in/.test(w.log())), 30_000);
    let coordinator = await serve(db, port);
    await until('both workers to connect', () => workers.every((w) => /session open/.test(w.log())), 30_000);
    const file = sweepFile('restart', 12, 20);
    const first = start('submit', file, '--coordinator', address, '--wait');
    await until('6 runs done', () => doneCount(db) >= 6);
    coordinator.child.kill('SIGKILL');
    await first.exit;
    const before = query<{ hash: string; finished_at: number; attempt: number }>(
      db,
      "SELECT hash, finished_at, attempt FROM runs WHERE status = 'done'",
    );
    assert.ok(before.length >= 6 && before.length < 24, `killed mid-sweep (${before.length} done)`);

    // nothing listens: submit waits --connect-timeout seconds, then gives up with exit 2
    const early = start('submit', file, '--coordinator', address, '--connect-timeout', '1');
    assert.equal(await early.exit, 2, early.log());
    assert.match(early.log(), /no coordinator answered within 1 s/);
    // a submit started before the coordinator restarts waits for it
    const resumed = start('submit', file, '--coordinator', address, '--wait');
    coordinator = await serve(db, port);
    assert.equal(await resumed.exit, 0, resumed.log());
    assert.match(resumed.log(), /24 runs \(0 new/);
    const afterRuns = query<{ hash: string; status: string; finished_at: number; attempt: number }>(
      db,
      'SELECT hash, status, finished_at, attempt FROM runs',
    );
    assert.ok(afterRuns.every((r) => r.status === 'done'));
    assert.equal(query<{ n: number }>(db, 'SELECT count(*) AS n FROM results')[0].n, 24);
    for (const r of before) {
      const now = afterRuns.find((a) => a.hash === r.hash);
      assert.deepEqual([now?.finished_at, now?.attempt], [r.finished_at, r.attempt], 'nothing finished is recomputed');
    }
    for (const w of workers) w.child.kill('SIGTERM');
    assert.deepEqual(await Promise.all(workers.map((w) => w.exit)), [0, 0]);
    coordinator.child.kill('SIGTERM');
    await coordinator.exit;
  },
);

const openssl = spawnSync('openssl', ['version']).status === 0;

test(
  'TLS with a self-signed certificate and a token file; clients without the token are refused',
  { skip: openssl ? false : 'openssl not found: cannot make a certificate' },
  async () => {
    const cert = join(dir, 'cert.pem');
    const key = join(dir, 'key.pem');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        key,
        '-out',
        cert,
        '-days',
        '1',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=DNS:localhost,IP:127.0.0.1',
      ],
      {
        stdio: 'ignore',
      },
    );
    const tokenFile = join(dir, 'token');
    writeFileSync(tokenFile, 'a-long-shared-secret\n');
    const db = join(dir, 'tls.db');
    const port = await freePort();
    const address = `localhost:${port}`;
    const coordinator = await serve(db, port, '--token-file', tokenFile, '--tls-cert', cert, '--tls-key', key);
    assert.ok(existsSync(db));
    const worker = start(
      'worker',
      '--coordinator',
      address,
      '--threads',
      '1',
      '--token-file',
      tokenFile,
      '--tls-ca',
      cert,
    );
    const file = sweepFile('tls', 2, 2);
    const noToken = spawnSync(
      process.execPath,
      ['--import', 'tsx', MAIN, 'submit', file, '--coordinator', address, '--tls-ca', cert],
      { encoding: 'utf8', timeout: 30_000 },
    );
    assert.equal(noToken.status, 2);
    assert.match(noToken.stderr, /UNAUTHENTICATED: missing or invalid bearer token/);
    assert.equal(query<{ n: number }>(db, 'SELECT count(*) AS n FROM sweeps')[0].n, 0);
    const intruder = spawnSync(
      process.execPath,
      ['--import', 'tsx', MAIN, 'worker', '--coordinator', address, '--tls-ca', cert, '--threads', '1'],
      { encoding: 'utf8', timeout: 30_000 },
    );
    assert.equal(intruder.status, 2, 'a worker without the token stops at once');
    assert.match(intruder.stderr, /UNAUTHENTICATED/);
    await until('the worker with the token to register', () => /registered as/.test(worker.log()));
    assert.equal(
      query<{ n: number }>(db, 'SELECT count(*) AS n FROM workers')[0].n,
      1,
      'only the worker with the token registered',
    );
    const ok = start('submit', file, '--coordinator', address, '--tls-ca', cert, '--token-file', tokenFile, '--wait');
    assert.equal(await ok.exit, 0, ok.log());
    assert.equal(query<{ n: number }>(db, "SELECT count(*) AS n FROM runs WHERE status = 'done'")[0].n, 4);
    const status = spawnSync(
      process.execPath,
      ['--import', 'tsx', MAIN, 'status', '--coordinator', address, '--tls-ca', cert, '--token-file', tokenFile],
      { encoding: 'utf8', timeout: 30_000 },
    );
    assert.equal(status.status, 0, status.stderr);
    assert.match(status.stdout, /tls +4 +0 +0 +4 +0 +100\.0 %/);
    assert.match(status.stdout, /yes/);
    worker.child.kill('SIGTERM');
    assert.equal(await worker.exit, 0);
    coordinator.child.kill('SIGTERM');
    await coordinator.exit;
  },
);
