import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

const MAIN = new URL('../src/cli/main.ts', import.meta.url).pathname;

function cli(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', MAIN, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const tiny = ['--set', 'epochs=3', '--set', 'task.in_size=5', '--set', 'task.out_size=2', '--set', 'task.n_samples=20'];

test('simulate --json prints the RunResult with its per-epoch history', () => {
  const r = cli('simulate', ...tiny, '--set', 'device.n_states=16', '--json');
  assert.equal(r.code, 0, r.stderr);
  const result = JSON.parse(r.stdout);
  assert.equal(result.config.device.n_states, 16);
  assert.equal(result.history.length, 4);
  assert.equal(typeof result.weights_digest, 'string');
});

test('simulate prints a readable table by default', () => {
  const r = cli('simulate', ...tiny, '--set', 'algorithm=sgd');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /algorithm=sgd task=least-squares\/matrix/);
  assert.match(r.stdout, /epoch {2}train_loss/);
});

test('bad input exits 2 with a message naming the field and the expectation', () => {
  const unknown = cli('simulate', '--set', 'device.colour=red');
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /--set device\.colour=red: device\.colour: unknown field/);
  const badValue = cli('simulate', '--set', 'lr=fast');
  assert.equal(badValue.code, 2);
  assert.match(badValue.stderr, /lr: expected a number > 0, got "fast"/);
  const range = cli('simulate', '--set', 'device.n_states=1');
  assert.equal(range.code, 2);
  assert.match(range.stderr, /device\.n_states: expected a number >= 2, got 1/);
  const noEq = cli('simulate', '--set', 'lr');
  assert.equal(noEq.code, 2);
  const unknownCommand = cli('frobnicate');
  assert.equal(unknownCommand.code, 2);
});

test('config files: missing, malformed and invalid files are named in the error', () => {
  const dir = mkdtempSync(join(tmpdir(), 'aimc-cli-'));
  const missing = cli('simulate', '--config', join(dir, 'nope.json'));
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /nope\.json: cannot read config file/);
  const broken = join(dir, 'broken.json');
  writeFileSync(broken, '{ "lr": ');
  const b = cli('simulate', '--config', broken);
  assert.equal(b.code, 2);
  assert.match(b.stderr, /broken\.json: not valid JSON/);
  const invalid = join(dir, 'invalid.json');
  writeFileSync(invalid, JSON.stringify({ device: { kind: 'softbounds', w_min: 1, w_max: 0.5 } }));
  const i = cli('simulate', '--config', invalid);
  assert.equal(i.code, 2);
  assert.match(i.stderr, /invalid\.json: device\.w_min: expected a number <= 0, got 1/);
  const good = join(dir, 'good.json');
  writeFileSync(good, JSON.stringify({ epochs: 2, task: { in_size: 4, out_size: 2, n_samples: 10 } }));
  const g = cli('simulate', '--config', good, '--set', 'seed=3', '--json');
  assert.equal(g.code, 0, g.stderr);
  assert.equal(JSON.parse(g.stdout).config.seed, 3);
});

test('expand validates a sweep and lists canonical runs; errors exit 2 with file and line', () => {
  const ok = cli('expand', new URL('../sweeps/quickstart.yaml', import.meta.url).pathname, '--json');
  assert.equal(ok.code, 0, ok.stderr);
  const lines = ok.stdout.trim().split('\n');
  const count = Number(/: (\d+) runs/.exec(lines[0])?.[1]);
  assert.equal(lines.length - 1, count);
  const hashes = new Set(lines.slice(1).map((l) => JSON.parse(l).hash));
  assert.equal(hashes.size, count, 'every run once');
  const dir = mkdtempSync(join(tmpdir(), 'aimc-sweep-'));
  const bad = join(dir, 'bad.yaml');
  writeFileSync(bad, 'name: bad\ngrid:\n  device.n_sates: [4]\n');
  const b = cli('expand', bad);
  assert.equal(b.code, 2);
  assert.match(b.stderr, /bad\.yaml:3: grid\.device\.n_sates: unknown run config field/);
});

test('a diverged run is reported in one line with exit code 1, not a stack trace', () => {
  const r = cli('simulate', ...tiny, '--set', 'algorithm=sgd', '--set', 'lr=1000');
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^aimc-sweep: training diverged at epoch \d+: loss is NaN/);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
});
