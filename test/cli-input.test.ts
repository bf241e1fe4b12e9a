/**
 * Input a new user gets wrong, answered helpfully: "did you mean" for keys and values (--set,
 * config files, sweep files alike, one line), YAML run config files with line numbers, and
 * `expand`'s list of runs (short hash and the swept values the run has).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { runLabel } from '../src/cli/run-label.ts';
import { RUN_SCHEMA, resolveRunConfig } from '../src/core/config/run-config.ts';
import { editDistance, nearestKeys, nearestWords, parseValueFor } from '../src/core/config/schema.ts';
import { expandSweep } from '../src/sweep/expand.ts';
import { parseSweepText, readSweepFile } from '../src/sweep/spec.ts';
import { runCli } from './helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'aimc-cli-input-'));
const messageOf = (f: () => unknown): string => {
  try {
    f();
  } catch (e) {
    return (e as Error).message;
  }
  return '(no error)';
};

test('edit distance and the nearest words: typos, case, - and _ alike; nothing when nothing is near', () => {
  assert.equal(editDistance('epoch', 'epochs'), 1);
  assert.equal(editDistance('tiki-taka', 'tikitaka'), 1);
  assert.equal(editDistance('ab', 'ba'), 1, 'a transposition is one edit');
  assert.deepEqual(nearestWords('analog_sgd', ['sgd', 'analog-sgd']), ['analog-sgd']);
  assert.deepEqual(nearestWords('TTv2', ['ttv2', 'c-ttv2']), ['ttv2']);
  assert.deepEqual(nearestWords('colour', ['kind', 'n_states']), []);
});

test('keys: the whole path mistyped, or its last part in another group; values accepted break ties', () => {
  assert.deepEqual(nearestKeys(RUN_SCHEMA, 'task.knd'), ['task.kind']);
  assert.deepEqual(nearestKeys(RUN_SCHEMA, 'n_states'), ['device.n_states']);
  assert.deepEqual(nearestKeys(RUN_SCHEMA, 'kind', { valueText: 'mnist' }), ['task.kind']);
  assert.deepEqual(nearestKeys(RUN_SCHEMA, 'device.colour'), []);
  const cases: Array<[string, string, RegExp]> = [
    ['epoch', '3', /^epoch: unknown field; did you mean epochs\?$/],
    ['task', 'mnist', /^task: is a group; set one of its fields \(did you mean task\.kind=mnist\?\)$/],
    [
      'device',
      '4',
      /^device: is a group; set one of its fields \(its fields: device\.kind, device\.preset, .*, \.\.\.\)$/,
    ],
    ['algorthm', 'sgd', /^algorthm: unknown field; did you mean algorithm\?$/],
    ['model.hiden', '8', /^model\.hiden: unknown field; did you mean model\.hidden\?$/],
    ['device.colour', 'red', /^device\.colour: unknown field$/],
  ];
  for (const [key, value, re] of cases)
    assert.match(
      messageOf(() => parseValueFor(RUN_SCHEMA, key, value)),
      re,
      key,
    );
});

test('config objects (files, sweep bases): unknown keys and enum values suggest, on one line', () => {
  const cases: Array<[unknown, RegExp]> = [
    [{ epoch: 3 }, /^epoch: unknown field; did you mean epochs\? \(allowed here: seed, /],
    [{ n_states: 4 }, /^n_states: unknown field; did you mean device\.n_states\? \(allowed here: /],
    [
      { task: { kind: 'mnist', downsampel: true } },
      /^task\.downsampel: unknown field; did you mean task\.downsample\? \(allowed here: kind, /,
    ],
    [{ algorithm: 'tikitaka' }, /^algorithm: expected one of sgd, .*, got "tikitaka"; did you mean tiki-taka\?$/],
    [{ task: { kind: 'minst' } }, /; did you mean mnist\?$/],
    [{ cost: { watts: 1 } }, /^cost\.watts: unknown field \(allowed here: pulse_ns, .*bytes_per_element\)$/],
  ];
  for (const [input, re] of cases) {
    const m = messageOf(() => resolveRunConfig(input));
    assert.match(m, re);
    assert.ok(!m.includes('\n'), m);
  }
  // a sweep's base: file, line and the suggestion
  const spec = parseSweepText('name: t\nbase:\n  epoch: 3\n', 't.yaml');
  assert.match(
    messageOf(() => expandSweep(spec)),
    /^t\.yaml:3: run base: epoch: unknown field; did you mean epochs\? /,
  );
});

test(
  'simulate --config: YAML (with its lines in errors) or JSON; --set overrides and is named when its value is ' +
    'wrong',
  async () => {
    const yaml = join(dir, 'run.yaml');
    writeFileSync(
      yaml,
      '# a run\nalgorithm: ttv2\nepochs: 2\ntask:\n  in_size: 4\n  out_size: 2\n  n_samples: 10\ndevice:\n  ' +
        'n_states: 1\n',
    );
    const typo = join(dir, 'typo.yml');
    writeFileSync(typo, 'epochs: 1\ntask: { in_sise: 3 }\n');
    const dup = join(dir, 'dup.yaml');
    writeFileSync(dup, 'epochs: 1\nepochs: 2\n');
    const list = join(dir, 'list.yaml');
    writeFileSync(list, '- epochs: 1\n');
    const json = join(dir, 'run.json');
    writeFileSync(json, JSON.stringify({ epochs: 1, task: { in_size: 3, out_size: 2, n_samples: 5 } }));
    const [bad, typoed, duplicated, notMap, overridden, badSet, fromJson] = await Promise.all([
      runCli('simulate', '--config', yaml),
      runCli('simulate', '--config', typo),
      runCli('simulate', '--config', dup),
      runCli('simulate', '--config', list),
      runCli('simulate', '--config', yaml, '--set', 'device.n_states=8', '--json'),
      runCli('simulate', '--config', yaml, '--set', 'device.kind=softbound'),
      runCli('simulate', '--config', json, '--json'),
    ]);
    assert.equal(bad.code, 2);
    assert.equal(bad.stderr, `aimc-sweep: ${yaml}:9: device.n_states: expected a number >= 2, got 1\n`);
    assert.match(typoed.stderr, /typo\.yml:2: task\.in_sise: unknown field; did you mean task\.in_size\? /);
    assert.match(duplicated.stderr, /dup\.yaml:2: invalid YAML: Map keys must be unique/);
    assert.match(notMap.stderr, /list\.yaml: expected a YAML mapping of run config fields/);
    assert.equal(overridden.code, 0, overridden.stderr);
    const r = JSON.parse(overridden.stdout);
    assert.deepEqual([r.config.algorithm, r.config.epochs, r.config.device.n_states], ['ttv2', 2, 8]);
    assert.match(
      badSet.stderr,
      /^aimc-sweep: --set device\.kind=softbound: device\.kind: expected one of .*; did you mean softbounds\?\n$/,
    );
    assert.equal(fromJson.code, 0, fromJson.stderr);
    assert.equal(JSON.parse(fromJson.stdout).config.epochs, 1);
  },
);

test(
  'expand lists every run: its short hash and the swept values it has (sgd: no device keys); ' + '--json as before',
  async () => {
    const quickstart = new URL('../sweeps/quickstart.yaml', import.meta.url).pathname;
    const runs = expandSweep(readSweepFile(quickstart)).runs;
    const sgd = runs.filter((r) => r.config.algorithm === 'sgd');
    assert.deepEqual(sgd.map(runLabel), ['seed=1 algorithm=sgd', 'seed=2 algorithm=sgd']);
    assert.equal(runLabel(runs.find((r) => r.config.algorithm === 'ttv2')!), 'device.n_states=4 seed=1 algorithm=ttv2');
    const [list, json] = await Promise.all([runCli('expand', quickstart), runCli('expand', quickstart, '--json')]);
    assert.equal(list.code, 0, list.stderr);
    const lines = list.stdout.trimEnd().split('\n');
    assert.equal(lines[0], 'quickstart: 22 runs (24 combinations, 0 excluded, 2 identical merged)');
    assert.deepEqual(
      lines.slice(1),
      runs.map((r) => `  ${r.hash.slice(0, 12)}  ${runLabel(r)}`),
    );
    assert.equal(json.stdout.trimEnd().split('\n').length, 23);
    assert.deepEqual(Object.keys(JSON.parse(json.stdout.split('\n')[1])), ['config', 'hash']);
  },
);
