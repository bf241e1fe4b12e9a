/**
 * The one classification of errors (src/errors.ts): every layer's bad-input error is an
 * InputError, and the maps derived from it, the CLI's exit code and the gRPC status, agree;
 * names and messages are the classes' own.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { failureLine, UsageError } from '../src/cli/errors.ts';
import { ConfigError } from '../src/core/config/schema.ts';
import { DivergedError } from '../src/core/tasks/diverged.ts';
import { DataError } from '../src/data/errors.ts';
import { exitCodeOf, InputError, isInputError } from '../src/errors.ts';
import { ReportError } from '../src/report/errors.ts';
import { errorToStatus, RpcError, statusCodeOf } from '../src/rpc/status.ts';
import { StoreError, StoreFailure, WriterLockLost } from '../src/store/errors.ts';
import { QueryError } from '../src/store/results-read.ts';
import { ExpanderError } from '../src/sweep/expand-thread.ts';
import { SweepError } from '../src/sweep/spec.ts';

const INPUT: [string, Error][] = [
  ['UsageError', new UsageError('--threads: expected a positive integer, got 0')],
  ['ConfigError', new ConfigError('device.n_states', 'expected a number >= 2, got 1')],
  ['SweepError', new SweepError('s.yaml:3: grid.seed: expected a list')],
  ['StoreError', new StoreError('x.db: not an aimc-sweep results database (an empty file)')],
  ['WriterLockLost', new WriterLockLost('x.db: h:1 lost the writer lock to h:2', 'h:2')],
  ['ReportError', new ReportError('--rows: unknown key nope')],
  ['QueryError', new QueryError('query: only read-only statements', new Error('cause'))],
  ['DataError', new DataError('train-images-idx3-ubyte: missing')],
];

const OTHER: [string, Error][] = [
  ['StoreFailure', new StoreFailure('x.db: database or disk is full; free space and run the same command to resume')],
  ['DivergedError', new DivergedError(3, 'train_loss is NaN')],
  ['ExpanderError', new ExpanderError('busy', 'busy')],
  ['Error', new Error('a bug')],
];

test(
  'every bad-input error of every layer is an InputError: exit code 2, INVALID_ARGUMENT; its name and message ' +
    'its own',
  () => {
    for (const [name, e] of INPUT) {
      assert.ok(e instanceof InputError && isInputError(e), name);
      assert.equal(e.name, name);
      assert.equal(exitCodeOf(e), 2, name);
      assert.equal(statusCodeOf(e), grpc.status.INVALID_ARGUMENT, name);
      assert.equal(failureLine(e, false), e.message, name);
    }
    assert.equal(
      new ConfigError('device.n_states', 'expected a number >= 2, got 1').message,
      'device.n_states: expected a number >= 2, got 1',
    );
    assert.equal(
      (INPUT.find(([n]) => n === 'QueryError')?.[1] as Error).cause instanceof Error,
      true,
      'the cause is kept',
    );
  },
);

test(
  'anything else exits 1 and is INTERNAL; failures of the environment and diverged runs say so in one line, bugs ' +
    'where their trace is',
  () => {
    for (const [name, e] of OTHER) {
      assert.ok(!isInputError(e), name);
      assert.equal(exitCodeOf(e), 1, name);
      assert.equal(statusCodeOf(e), grpc.status.INTERNAL, name);
    }
    assert.equal(exitCodeOf('a string'), 1);
    assert.equal(
      failureLine(OTHER[0][1], false),
      'x.db: database or disk is full; free space and run the same command to resume',
    );
    assert.equal(
      failureLine(OTHER[1][1], false),
      'training diverged at epoch 3: train_loss is NaN (a smaller lr may help)',
    );
    assert.equal(failureLine(new Error('first\nsecond'), false), 'first (run with --debug for the trace)');
    assert.match(failureLine(new Error('a bug'), true), /^Error: a bug\n {4}at /);
    assert.match(failureLine(new UsageError('bad'), true), /^bad\nUsageError: bad\n {4}at /);
  },
);

test('a gRPC status an error carries wins; the status answered carries the details and the metadata', () => {
  const metadata = new grpc.Metadata();
  metadata.set('k', 'v');
  const carried = new RpcError(grpc.status.RESOURCE_EXHAUSTED, 'too big', metadata);
  assert.equal(statusCodeOf(carried), grpc.status.RESOURCE_EXHAUSTED);
  const answered = errorToStatus(carried);
  assert.deepEqual(
    [answered.code, answered.details, answered.metadata?.get('k')],
    [grpc.status.RESOURCE_EXHAUSTED, 'too big', ['v']],
  );
  const input = errorToStatus(new SweepError('s.yaml:2: bad'));
  assert.deepEqual([input.code, input.details], [grpc.status.INVALID_ARGUMENT, 's.yaml:2: bad']);
  const bug = errorToStatus(new TypeError('x is undefined'));
  assert.deepEqual([bug.code, bug.details], [grpc.status.INTERNAL, 'x is undefined']);
});
