import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NormalStream } from '../src/core/normal-stream.ts';
import { Rng, streamFor } from '../src/core/rng.ts';
import { zigExp } from '../src/core/ziggurat.ts';
import { mean, variance } from './helpers.ts';

test('the same seed and stream give the same numbers; other seeds and streams differ', () => {
  const a = streamFor(42, 'pulses');
  const b = streamFor(42, 'pulses');
  const seqA = Array.from({ length: 8 }, () => a.nextU32());
  assert.deepEqual(
    Array.from({ length: 8 }, () => b.nextU32()),
    seqA,
  );
  const c = streamFor(43, 'pulses');
  const d = streamFor(42, 'noise');
  assert.notDeepEqual(
    Array.from({ length: 8 }, () => c.nextU32()),
    seqA,
  );
  assert.notDeepEqual(
    Array.from({ length: 8 }, () => d.nextU32()),
    seqA,
  );
});

test('xoshiro128** matches its reference output for a known state', () => {
  // Reference: the first outputs of xoshiro128** seeded with the state words 1, 2, 3, 4
  // (Vigna's reference implementation): 11520, 0, 5927040, 70819200.
  const r = Rng.fromState([1, 2, 3, 4]);
  assert.deepEqual([r.nextU32(), r.nextU32(), r.nextU32(), r.nextU32()], [11520, 0, 5927040, 70819200]);
  // block generation gives the same words as single draws
  const a = Rng.fromState([5, 6, 7, 8]);
  const b = Rng.fromState([5, 6, 7, 8]);
  const block = new Int32Array(300);
  a.fillI32(block);
  assert.deepEqual(
    [...block],
    Array.from({ length: 300 }, () => b.nextI32()),
  );
  assert.deepEqual(a.state(), b.state());
});

test('uniform draws have mean 1/2 and variance 1/12', () => {
  const r = streamFor(7, 'u');
  const xs = new Float64Array(200_000);
  r.fillUniform(xs);
  assert.ok(Math.abs(mean(xs) - 0.5) < 0.003);
  assert.ok(Math.abs(variance(xs) - 1 / 12) < 0.001);
  assert.ok(xs.every((x) => x >= 0 && x < 1));
});

test('ziggurat normals have the moments and tails of N(0, 1)', () => {
  const r = streamFor(11, 'n');
  const n = 400_000;
  const xs = new Float64Array(n);
  r.fillNormal(xs);
  const m = mean(xs);
  const v = variance(xs);
  let k4 = 0;
  let beyond3 = 0;
  let beyond2 = 0;
  for (const x of xs) {
    k4 += (x - m) ** 4;
    if (Math.abs(x) > 3) beyond3++;
    if (Math.abs(x) > 2) beyond2++;
  }
  assert.ok(Math.abs(m) < 0.006, `mean ${m}`);
  assert.ok(Math.abs(v - 1) < 0.01, `variance ${v}`);
  assert.ok(Math.abs(k4 / n / (v * v) - 3) < 0.06, 'kurtosis');
  assert.ok(Math.abs(beyond2 / n - 0.0455) < 0.0015, `P(|x|>2) = ${beyond2 / n}`);
  assert.ok(Math.abs(beyond3 / n - 0.0027) < 0.0005, `P(|x|>3) = ${beyond3 / n}`);
});

test('int(n) is uniform over [0, n) and shuffle is a permutation', () => {
  const r = streamFor(3, 'i');
  const counts = new Array(6).fill(0);
  for (let k = 0; k < 60_000; k++) counts[r.int(6)]++;
  for (const c of counts) assert.ok(Math.abs(c - 10_000) < 400);
  const a = Int32Array.from({ length: 50 }, (_, k) => k);
  r.shuffle(a);
  assert.deepEqual(
    [...a].sort((x, y) => x - y),
    Array.from({ length: 50 }, (_, k) => k),
  );
  assert.throws(() => r.int(0), /n must be an integer/);
});

test('zigExp: the portable exp of the normal stream is within 2 ulp of Math.exp', () => {
  const r = streamFor(4, 'e');
  for (let k = 0; k < 20_000; k++) {
    const t = -12 * r.uniform53();
    const e = Math.exp(t);
    assert.ok(Math.abs(zigExp(t) - e) <= 4.5e-16 * e, `t=${t}: ${zigExp(t)} vs ${e}`);
  }
  assert.equal(zigExp(0), 1);
  assert.equal(zigExp(-800), 0);
});

test('the normal stream has the moments and tails of N(0, 1), its rare tail included', () => {
  const s = new NormalStream(streamFor(12, 'noise'));
  const n = 1_000_000;
  let m1 = 0;
  let m2 = 0;
  let m4 = 0;
  const beyond = [0, 0, 0];
  const th = [1, 3, 4.2]; // 4.2: past the ziggurat's base strip (r = 4.04)
  for (let k = 0; k < n; k++) {
    const z = s.next();
    m1 += z;
    m2 += z * z;
    m4 += z ** 4;
    for (let i = 0; i < 3; i++) if (Math.abs(z) > th[i]) beyond[i]++;
  }
  assert.ok(Math.abs(m1 / n) < 0.004, `mean ${m1 / n}`);
  assert.ok(Math.abs(m2 / n - 1) < 0.005, `variance ${m2 / n}`);
  assert.ok(Math.abs(m4 / n - 3) < 0.04, `fourth moment ${m4 / n}`);
  const p = [0.317311, 0.0026998, 2.6691e-5];
  for (let i = 0; i < 3; i++) {
    const se = Math.sqrt(p[i] / n);
    assert.ok(Math.abs(beyond[i] / n - p[i]) < 4.5 * se, `P(|z| > ${th[i]}) = ${beyond[i] / n}, expected ${p[i]}`);
  }
});

test('the normal stream does not depend on when its buffer is refilled', () => {
  const a = new NormalStream(streamFor(13, 'noise'));
  const b = new NormalStream(streamFor(13, 'noise'));
  const r = streamFor(1, 'when');
  for (let k = 0; k < 5000; k++) {
    if (r.uniform() < 0.05) b.ensure(1 + r.int(128)); // refills early, carrying unread normals
    assert.equal(b.next(), a.next(), `normal ${k}`);
  }
});

test('moveState: a generator continues its stream in another array', () => {
  const a = streamFor(2, 'm');
  const b = streamFor(2, 'm');
  a.nextU32();
  b.nextU32();
  const view = new Int32Array(new ArrayBuffer(64), 16, 4);
  b.moveState(view);
  assert.deepEqual(
    Array.from({ length: 5 }, () => b.nextU32()),
    Array.from({ length: 5 }, () => a.nextU32()),
  );
  assert.deepEqual(
    b.state(),
    [...view].map((v) => v >>> 0),
  );
});
