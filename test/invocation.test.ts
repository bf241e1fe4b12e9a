/**
 * Every command the CLI prints is one the user can paste: how it was started (npm start / npm run,
 * npx, a bin link on the PATH or not, node with a path, tsx) decides how the resume and failed-run
 * hints are written (src/cli/invocation.ts). And Ctrl-C's message is the last thing the progress
 * display writes.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { invocation, type ProcessView, shellQuote } from '../src/cli/invocation.ts';
import { ProgressDisplay } from '../src/cli/progress.ts';

const REPO = fileURLToPath(new URL('..', import.meta.url)).replace(/\/$/, '');
const MAIN_JS = join(REPO, 'dist/src/cli/main.js');
const MAIN_TS = join(REPO, 'src/cli/main.ts');
const TSX = import.meta.resolve('tsx');
const dir = mkdtempSync(join(tmpdir(), 'aimc-invocation-'));

/** A process view: node on the PATH (the one running this test), everything else given. */
function view(p: Partial<ProcessView> & { argv: string[] }): ProcessView {
  return { execArgv: [], execPath: process.execPath, cwd: REPO, env: { PATH: process.env.PATH }, ...p };
}
const line = (words: string[]): string => words.map(shellQuote).join(' ');

test('shell quoting: plain words as they are, the rest quoted so that the shell gives them back', () => {
  assert.equal(shellQuote('sweeps/quickstart.yaml'), 'sweeps/quickstart.yaml');
  assert.equal(shellQuote('my sweep.yaml'), "'my sweep.yaml'");
  assert.equal(
    shellQuote("SELECT hash FROM runs WHERE status = 'failed'"),
    `"SELECT hash FROM runs WHERE status = 'failed'"`,
  );
  assert.equal(shellQuote("it's $HOME"), `'it'\\''s $HOME'`);
  assert.equal(shellQuote(''), "''");
});

test('node with a path, and tsx: node, its options and the script relative to the working directory', () => {
  const built = invocation(view({ argv: [process.execPath, MAIN_JS, 'run', 'sweeps/quickstart.yaml'] }));
  assert.equal(line(built.prefix), 'node dist/src/cli/main.js');
  assert.equal(line(built.same), 'node dist/src/cli/main.js run sweeps/quickstart.yaml');
  const tsx = invocation(
    view({
      argv: [process.execPath, MAIN_TS, 'expand', 'a b.yaml'],
      execArgv: ['--import', 'tsx'],
      cwd: join(REPO, 'src'),
    }),
  );
  assert.equal(line(tsx.same), "node --import tsx cli/main.ts expand 'a b.yaml'");
  const outside = invocation(view({ argv: [process.execPath, MAIN_JS, 'status'], cwd: '/' }));
  assert.equal(line(outside.prefix), `node ${MAIN_JS}`);
  // a node that is not the PATH's: its full path
  const other = invocation(view({ argv: [process.execPath, MAIN_JS, 'status'], env: { PATH: '/nonexistent' } }));
  assert.equal(other.prefix[0], process.execPath);
});

test(
  'npm start and npm run: the same command is the npm command (with the arguments npm passed on); others run the ' +
    'script',
  () => {
    const script = 'node dist/src/cli/main.js run sweeps/quickstart.yaml';
    const env = {
      PATH: process.env.PATH,
      npm_lifecycle_event: 'start',
      npm_lifecycle_script: script,
      npm_command: 'start',
      INIT_CWD: REPO,
    };
    const start = invocation(view({ argv: [process.execPath, MAIN_JS, 'run', 'sweeps/quickstart.yaml'], env }));
    assert.equal(line(start.same), 'npm start');
    assert.equal(line(start.prefix), 'node dist/src/cli/main.js');
    const extra = invocation(
      view({ argv: [process.execPath, MAIN_JS, 'run', 'sweeps/quickstart.yaml', '--db', 'x.db'], env }),
    );
    assert.equal(line(extra.same), 'npm start -- --db x.db');
    const custom = invocation(
      view({
        argv: [process.execPath, MAIN_JS, 'run', 'sweeps/quickstart.yaml'],
        env: { ...env, npm_lifecycle_event: 'quick', npm_command: 'run' },
      }),
    );
    assert.equal(line(custom.same), 'npm run quick');
    // typed in a subdirectory: npm ran it in the package root, where the printed paths hold
    const sub = invocation(
      view({
        argv: [process.execPath, MAIN_JS, 'run', 'sweeps/quickstart.yaml'],
        env: { ...env, INIT_CWD: join(REPO, 'docs') },
      }),
    );
    assert.equal(sub.cd, '..');
    // a CLI spawned by a test that `npm test` started is not `npm test`
    const child = invocation(
      view({
        argv: [process.execPath, MAIN_TS, 'run', 'a.yaml'],
        execArgv: ['--import', 'tsx'],
        env: { ...env, npm_lifecycle_event: 'test', npm_lifecycle_script: 'node --import tsx --test test/*.test.ts' },
      }),
    );
    assert.equal(line(child.same), 'node --import tsx src/cli/main.ts run a.yaml');
    assert.equal(child.cd, undefined);
  },
);

test('npx and bin links: npx aimc-sweep; the bare name when the PATH finds this very link, else its path', () => {
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  const link = join(bin, 'aimc-sweep');
  // the link's target executable, as npm link and npm install -g leave it (a clone's tsc output is not)
  const target = join(dir, 'package-main.js');
  copyFileSync(MAIN_JS, target);
  chmodSync(target, 0o755);
  symlinkSync(target, link);
  const npx = invocation(
    view({
      argv: [process.execPath, join(dir, '_npx/node_modules/.bin/aimc-sweep'), 'status'],
      env: { PATH: process.env.PATH, npm_command: 'exec', npm_lifecycle_event: 'npx' },
    }),
  );
  assert.equal(line(npx.same), 'npx aimc-sweep status');
  const onPath = invocation(
    view({ argv: [process.execPath, link, 'status'], env: { PATH: `${bin}:${process.env.PATH}` } }),
  );
  assert.equal(line(onPath.same), 'aimc-sweep status');
  const offPath = invocation(
    view({ argv: [process.execPath, link, 'status'], env: { PATH: process.env.PATH }, cwd: dir }),
  );
  assert.equal(line(offPath.same), './bin/aimc-sweep status');
  // another aimc-sweep first on the PATH: this one by its path
  const shadow = join(dir, 'shadow');
  mkdirSync(shadow);
  writeFileSync(join(shadow, 'aimc-sweep'), '#!/bin/sh\n');
  chmodSync(join(shadow, 'aimc-sweep'), 0o755);
  const shadowed = invocation(
    view({ argv: [process.execPath, link, 'status'], env: { PATH: `${shadow}:${bin}` }, cwd: '/' }),
  );
  assert.equal(shadowed.prefix[0], link);
});

test(
  'Ctrl-C under `npm run`: the resume hint is the npm command, and nothing is written after the stopping line ' +
    'but the summary',
  { timeout: 120_000 },
  async () => {
    const pkg = join(dir, 'pkg');
    mkdirSync(pkg);
    // 6 runs of about a second each on one thread: Ctrl-C lands while some are left
    writeFileSync(
      join(pkg, 'slow.yaml'),
      'name: slow\nbase: { algorithm: tiki-taka, epochs: 80, task: { in_size: 20, out_size: 10, n_samples: 200 ' +
        '} }\ngrid: { seed: [1, 2, 3, 4, 5, 6] }\n',
    );
    const script = `node --import ${TSX} ${MAIN_TS} run slow.yaml --threads 1`;
    writeFileSync(
      join(pkg, 'package.json'),
      JSON.stringify({ name: 'pkg', version: '1.0.0', private: true, scripts: { sweep: script } }),
    );
    const env = { ...process.env };
    for (const k of Object.keys(env))
      if (k.startsWith('npm_') || k === 'INIT_CWD' || k === 'NODE_TEST_CONTEXT') delete env[k];
    const child = spawn('npm', ['run', 'sweep', '--silent', '--', '--db', 'r.db'], {
      cwd: pkg,
      env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    const firstRun = new Promise<void>((resolve) => {
      const onData = (d: Buffer): void => {
        out += d.toString();
        if (/\[1\/6\] done/.test(out)) resolve();
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
    });
    const closed = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    await Promise.race([firstRun, closed]);
    process.kill(-child.pid!, 'SIGINT'); // the terminal's Ctrl-C: the whole foreground group
    await closed;
    assert.match(out, /stopping: cancelling the runs in flight/, out);
    const after = out.slice(out.indexOf('stopping:'));
    assert.match(
      after,
      /^stopping: .*\ninterrupted: \d of 6 runs done, 0 failed; nothing is lost\. Resume with the same command:\n {2}npm run sweep -- --db r\.db\n/,
      out,
    );
  },
);

test("the progress bar: after Ctrl-C's message nothing draws over it", async () => {
  const writes: string[] = [];
  const out = { isTTY: true, write: (s: string) => writes.push(s) } as unknown as NodeJS.WriteStream;
  const lease = { hash: 'a'.repeat(64), attempt: 1 };
  const display = new ProgressDisplay({
    sweep: 's',
    counts: { queued: 3, running: 0, done: 0, failed: 0 },
    labels: new Map(),
    out,
  });
  display.onEvent({ kind: 'finished', lease, status: 'done', final: undefined } as never);
  await new Promise((r) => setTimeout(r, 300));
  assert.ok(
    writes.some((w) => w.startsWith('\r\x1b[Ks [########') && w.includes('1/3')),
    writes.join('|'),
  );
  display.interrupt('stopping: cancelling\n');
  const at = writes.length;
  assert.match(writes[at - 1], /\n?stopping: cancelling\n$/);
  display.onEvent({
    kind: 'finished',
    lease: { hash: 'b'.repeat(64), attempt: 1 },
    status: 'done',
    final: undefined,
  } as never);
  display.onEvent({ kind: 'rejected', lease, what: 'result', reason: 'late' } as never);
  await new Promise((r) => setTimeout(r, 600));
  display.stop();
  const later = writes.slice(at);
  assert.ok(
    later.every((w) => !w.includes('\r')),
    `redrawn after the message: ${JSON.stringify(later)}`,
  );
  assert.deepEqual(later, ['warning: result for run aaaaaaaaaaaa rejected: late\n']);
});
