/**
 * The typed gRPC bridge (src/rpc/bridge.ts) over real servers on 127.0.0.1: unary, bidi and
 * server-streaming calls of the generated services, bearer-token auth, error mapping, message
 * size limits and TLS with a self-signed certificate.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { create, fromBinary, type MessageInitShape, toBinary } from '@bufbuild/protobuf';
import * as grpc from '@grpc/grpc-js';
import { EPOCH_METRICS, type EpochMetrics, type RunResult } from '../src/core/tasks/run-result.ts';
import { EpochMetricsSchema, RunResultSchema, RunStatus } from '../src/gen/aimcsweep/v1/run_pb.ts';
import {
  type GetStatusResponse,
  GetStatusResponseSchema,
  SweepService,
  type WatchResponse,
  WatchResponseSchema,
} from '../src/gen/aimcsweep/v1/sweep_pb.ts';
import { type SessionRequest, WorkerService } from '../src/gen/aimcsweep/v1/worker_pb.ts';
import {
  addService,
  bindServer,
  channelCredentials,
  type Client,
  createClient,
  isServiceError,
  RpcError,
  serverCredentials,
  type ServerOptions,
  type ServerTls,
  serviceDefinition,
  type ServiceImpl,
} from '../src/rpc/bridge.ts';
import {
  epochFromWire,
  epochToWire,
  resultFromWire,
  resultToWire,
  runEventToWire,
  sweepStatusToWire,
  watchUpdateFromWire,
} from '../src/rpc/convert.ts';

const unimplemented = (): never => {
  throw new RpcError(grpc.status.UNIMPLEMENTED, 'not in this test');
};

/** Handlers that all answer UNIMPLEMENTED; tests override what they exercise. */
function workerImpl(overrides: Partial<ServiceImpl<typeof WorkerService>> = {}): ServiceImpl<typeof WorkerService> {
  return { register: unimplemented, session: unimplemented, ...overrides };
}
function sweepImpl(overrides: Partial<ServiceImpl<typeof SweepService>> = {}): ServiceImpl<typeof SweepService> {
  return { submit: unimplemented, getStatus: unimplemented, watch: unimplemented, ...overrides };
}

interface Started {
  address: string;
  server: grpc.Server;
}

/** A server on 127.0.0.1 (any port) serving both services; shut down when the test ends. */
async function serve(
  t: TestContext,
  impls: { worker?: ServiceImpl<typeof WorkerService>; sweep?: ServiceImpl<typeof SweepService> },
  options: ServerOptions = {},
  more: { serverOptions?: grpc.ServerOptions; tls?: ServerTls } = {},
): Promise<Started> {
  const server = new grpc.Server(more.serverOptions);
  addService(server, WorkerService, impls.worker ?? workerImpl(), options);
  addService(server, SweepService, impls.sweep ?? sweepImpl(), options);
  const port = await bindServer(server, '127.0.0.1:0', serverCredentials(more.tls));
  t.after(() => server.forceShutdown());
  return { address: `127.0.0.1:${port}`, server };
}

function client<S extends typeof WorkerService | typeof SweepService>(
  t: TestContext,
  service: S,
  address: string,
  options: Parameters<typeof createClient>[3] = {},
  credentials = channelCredentials(),
): Client<S> {
  const c = createClient(service, address, credentials, options);
  t.after(() => c.$close());
  return c;
}

/** The gRPC status code a promise rejects with (fails the test when it resolves). */
async function codeOf(promise: Promise<unknown>): Promise<grpc.status> {
  try {
    await promise;
  } catch (error) {
    assert.ok(isServiceError(error), `expected a gRPC ServiceError, got ${String(error)}`);
    return error.code;
  }
  assert.fail('expected the call to fail');
}

/** Collects a server stream; resolves to its messages and the status code it ended with. */
async function drain<T>(stream: AsyncIterable<T>): Promise<{ messages: T[]; code: grpc.status }> {
  const messages: T[] = [];
  try {
    for await (const m of stream) messages.push(m);
  } catch (error) {
    assert.ok(isServiceError(error), `expected a gRPC ServiceError, got ${String(error)}`);
    return { messages, code: error.code };
  }
  return { messages, code: grpc.status.OK };
}

const deadline = (ms = 3000): Date => new Date(Date.now() + ms);

const registration = {
  name: 'node-7',
  host: 'gpu07.cluster',
  slots: 16,
  packageVersion: '0.1.0',
  numericsVersion: 2,
  nodeVersion: 'v20.19.0',
};

test('convert: every epoch metric crosses the wire in binary and back; absent stays absent, NaN stays NaN', () => {
  const full: EpochMetrics = { epoch: 3, train_loss: 0, pulses: { W: 12, 'fc0/A': 3 }, wall_ms: 9.5 };
  EPOCH_METRICS.forEach((k, i) => (full[k] = 0.125 * (i + 1) + 1e-9));
  const least: EpochMetrics = {
    epoch: 1,
    train_loss: 0.5,
    weight_error: 1,
    step_loss: 0.75,
    step_weight_error: Number.NaN,
    pulses: {},
  };
  const bare: EpochMetrics = { epoch: 0, train_loss: 2, pulses: {} };
  for (const m of [full, least, bare]) {
    const back = epochFromWire(
      fromBinary(EpochMetricsSchema, toBinary(EpochMetricsSchema, create(EpochMetricsSchema, epochToWire(m)))),
    );
    assert.deepEqual(back, m);
  }
  assert.deepEqual(Object.keys(epochFromWire(create(EpochMetricsSchema, epochToWire(bare)))).sort(), [
    'epoch',
    'pulses',
    'train_loss',
  ]);
  const result: RunResult = {
    numerics_version: 3,
    config: {} as RunResult['config'],
    history: [bare, least],
    final: least,
    weights_digest: 'd',
    wall_ms: 4,
  };
  const wire = fromBinary(RunResultSchema, toBinary(RunResultSchema, create(RunResultSchema, resultToWire(result))));
  assert.deepEqual(resultFromWire(wire), {
    numerics_version: 3,
    history: [bare, least],
    weights_digest: 'd',
    wall_ms: 4,
  });
});

test('convert: a watched sweep crosses the wire in binary and back as submit --wait reads it', () => {
  const sweep = sweepStatusToWire({
    name: 's',
    total: 5,
    queued: 1,
    running: 1,
    done: 2,
    failed: 1,
    progress: 60,
    runsPerMinute: 2,
    etaMs: 60_000,
  });
  const through = (m: MessageInitShape<typeof WatchResponseSchema>): WatchResponse =>
    fromBinary(WatchResponseSchema, toBinary(WatchResponseSchema, create(WatchResponseSchema, m)));
  const counts = { queued: 1, running: 1, done: 2, failed: 1 };
  assert.deepEqual(watchUpdateFromWire(through({ sweep })), { counts });
  assert.deepEqual(
    watchUpdateFromWire(through({ sweep, run: runEventToWire({ hash: 'abc', attempt: 2 }, 'done', undefined) })),
    {
      counts,
      run: { lease: { hash: 'abc', attempt: 2 }, status: 'done', error: '' },
    },
  );
  assert.deepEqual(
    watchUpdateFromWire(through({ sweep, run: runEventToWire({ hash: 'def', attempt: 1 }, 'failed', 'diverged') })),
    {
      counts,
      run: { lease: { hash: 'def', attempt: 1 }, status: 'failed', error: 'diverged' },
    },
  );
  assert.equal(watchUpdateFromWire(through({})), undefined, 'no counts: nothing to show');
});

test('service definitions carry the gRPC paths and streaming flags of the descriptors', () => {
  const worker = serviceDefinition(WorkerService);
  assert.equal(worker.register.path, '/aimcsweep.v1.WorkerService/Register');
  assert.equal(worker.register.requestStream, false);
  assert.equal(worker.register.responseStream, false);
  assert.equal(worker.session.path, '/aimcsweep.v1.WorkerService/Session');
  assert.equal(worker.session.requestStream, true);
  assert.equal(worker.session.responseStream, true);
  const sweep = serviceDefinition(SweepService);
  assert.deepEqual(Object.keys(sweep).sort(), ['getStatus', 'submit', 'watch']);
  assert.equal(sweep.watch.path, '/aimcsweep.v1.SweepService/Watch');
  assert.equal(sweep.watch.requestStream, false);
  assert.equal(sweep.watch.responseStream, true);
  // a round trip through the definition's (de)serializers keeps every field
  const bytes = sweep.getStatus.responseSerialize({
    workers: [{ workerId: 'w1', lastHeartbeatUnixMs: 1_700_000_000_123n, connected: true }],
  });
  const back = sweep.getStatus.responseDeserialize(bytes) as GetStatusResponse;
  assert.equal(back.workers[0].workerId, 'w1');
  assert.equal(back.workers[0].lastHeartbeatUnixMs, 1_700_000_000_123n);
  assert.equal(back.workers[0].connected, true);
});

test('unary Register round-trips typed messages and metadata', async (t) => {
  let seen: { request: unknown; peer: string } | undefined;
  const { address } = await serve(t, {
    worker: workerImpl({
      register: async (request, call) => {
        seen = { request, peer: call.getPeer() };
        assert.equal(call.metadata.get('x-trace')[0], 'abc');
        return { workerId: `w-${request.name}-${request.slots}`, leaseTtlMs: 30_000, heartbeatIntervalMs: 5_000 };
      },
    }),
  });
  const c = client(t, WorkerService, address);
  const metadata = new grpc.Metadata();
  metadata.set('x-trace', 'abc');
  const response = await c.register(registration, { metadata, deadline: deadline() });
  assert.equal(response.$typeName, 'aimcsweep.v1.RegisterResponse');
  assert.equal(response.workerId, 'w-node-7-16');
  assert.equal(response.leaseTtlMs, 30_000);
  assert.equal(response.heartbeatIntervalMs, 5_000);
  assert.ok(seen);
  assert.deepEqual({ ...(seen.request as object), $typeName: undefined }, { ...registration, $typeName: undefined });
  assert.match(seen.peer, /127\.0\.0\.1/);
});

test('Session: the server leases a run, the client reports its result, both typed', async (t) => {
  const received: SessionRequest[] = [];
  const { address } = await serve(t, {
    worker: workerImpl({
      session: (call) => {
        call.on('data', (m) => {
          received.push(m);
          switch (m.kind.case) {
            case 'hello':
              call.write({
                kind: {
                  case: 'lease',
                  value: {
                    lease: { runHash: 'ab12', attempt: 1 },
                    configJson: `{"seed":0,"w":"${m.kind.value.workerId}"}`,
                    leaseTtlMs: 30_000,
                  },
                },
              });
              break;
            case 'result': {
              const ok = m.kind.value.result?.weightsDigest === '45c0c1470ecc94c1';
              call.write({
                kind: {
                  case: 'ack',
                  value: { lease: m.kind.value.lease, accepted: ok, reason: ok ? '' : 'bad digest' },
                },
              });
              call.end();
              break;
            }
            default:
              call.emit('error', new RpcError(grpc.status.FAILED_PRECONDITION, `unexpected ${m.kind.case}`));
          }
        });
      },
    }),
  });
  const c = client(t, WorkerService, address);
  const session = c.session({ deadline: deadline() });
  const status = new Promise<grpc.StatusObject>((resolve) => session.on('status', resolve));
  session.write({ kind: { case: 'hello', value: { workerId: 'w1' } } });
  const responses: string[] = [];
  for await (const response of session) {
    if (response.kind.case === 'lease') {
      const { lease, configJson, leaseTtlMs } = response.kind.value;
      assert.deepEqual(JSON.parse(configJson), { seed: 0, w: 'w1' });
      assert.equal(leaseTtlMs, 30_000);
      responses.push(`lease ${lease?.runHash}/${lease?.attempt}`);
      const result = create(RunResultSchema, {
        numericsVersion: 2,
        history: [
          { epoch: 0, trainLoss: 6.489, weightError: 12.791, pulses: { W: 0 } },
          { epoch: 1, trainLoss: 2.0291, weightError: 4.3897, pulses: { W: 1907 }, wallMs: 3.5 },
        ],
        weightsDigest: '45c0c1470ecc94c1',
        wallMs: 8,
      });
      session.write({ kind: { case: 'result', value: { lease, result } } });
    } else if (response.kind.case === 'ack') {
      responses.push(`ack ${response.kind.value.lease?.runHash} ${response.kind.value.accepted}`);
      session.end();
    } else {
      assert.fail(`unexpected ${response.kind.case}`);
    }
  }
  assert.deepEqual(responses, ['lease ab12/1', 'ack ab12 true']);
  assert.equal((await status).code, grpc.status.OK);
  assert.deepEqual(
    received.map((m) => m.kind.case),
    ['hello', 'result'],
  );
  const report = received[1].kind;
  assert.equal(report.case, 'result');
  const history = report.value.result?.history ?? [];
  assert.equal(history.length, 2);
  assert.equal(history[1].trainLoss, 2.0291);
  assert.equal(history[1].trainAccuracy, undefined); // absent stays absent (optional fields)
  assert.equal(history[1].wallMs, 3.5);
  assert.deepEqual(history[1].pulses, { W: 1907 });
  assert.equal(report.value.result?.wallMs, 8);
});

test('Watch streams typed snapshots until the server ends the stream', async (t) => {
  let request: string | undefined;
  const { address } = await serve(t, {
    sweep: sweepImpl({
      watch: async (call) => {
        request = call.request.sweepName;
        const counts = { queued: 2, running: 0, done: 0, failed: 0 };
        call.write({ sweep: { name: request, counts: { ...counts } } });
        for (const [i, status] of [RunStatus.DONE, RunStatus.FAILED].entries()) {
          counts.queued -= 1;
          if (status === RunStatus.DONE) counts.done += 1;
          else counts.failed += 1;
          call.write({
            sweep: { name: request, counts: { ...counts }, runsPerMinute: 60, etaSeconds: counts.queued },
            run: { runHash: `h${i}`, status, error: status === RunStatus.FAILED ? 'NaN loss' : '', attempt: 1 },
          });
        }
        call.end();
      },
    }),
  });
  const c = client(t, SweepService, address);
  const { messages, code } = await drain<WatchResponse>(c.watch({ sweepName: 'quickstart' }, { deadline: deadline() }));
  assert.equal(code, grpc.status.OK);
  assert.equal(request, 'quickstart');
  assert.equal(messages.length, 3);
  assert.equal(messages[0].run, undefined);
  assert.equal(messages[0].sweep?.etaSeconds, undefined);
  assert.deepEqual(
    messages.map((m) => [m.run?.runHash, m.run?.status, m.sweep?.counts?.done, m.sweep?.counts?.failed]),
    [
      [undefined, undefined, 0, 0],
      ['h0', RunStatus.DONE, 1, 0],
      ['h1', RunStatus.FAILED, 1, 1],
    ],
  );
  assert.equal(messages[2].run?.error, 'NaN loss');
  assert.equal(messages[2].sweep?.etaSeconds, 0); // explicitly set zero survives (optional field)
});

test('with a token, calls without it are UNAUTHENTICATED before any handler runs', async (t) => {
  let invoked = 0;
  const { address } = await serve(
    t,
    {
      worker: workerImpl({
        register: () => {
          invoked++;
          return { workerId: 'w1' };
        },
        session: (call) => {
          invoked++;
          call.end();
        },
      }),
      sweep: sweepImpl({
        watch: (call) => {
          invoked++;
          call.end();
        },
      }),
    },
    { token: 's3cret-token' },
  );
  const anonymous = client(t, WorkerService, address);
  const wrong = client(t, WorkerService, address, { token: 's3cret-tokem' });
  const prefix = client(t, WorkerService, address, { token: 's3cret' });
  assert.equal(await codeOf(anonymous.register(registration)), grpc.status.UNAUTHENTICATED);
  assert.equal(await codeOf(wrong.register(registration)), grpc.status.UNAUTHENTICATED);
  assert.equal(await codeOf(prefix.register(registration)), grpc.status.UNAUTHENTICATED);
  const forged = new grpc.Metadata();
  forged.set('authorization', 's3cret-token'); // the token without the Bearer scheme
  assert.equal(await codeOf(anonymous.register(registration, { metadata: forged })), grpc.status.UNAUTHENTICATED);
  const anonymousSweep = client(t, SweepService, address);
  assert.equal((await drain(anonymousSweep.watch({ sweepName: 'x' }))).code, grpc.status.UNAUTHENTICATED);
  const session = anonymous.session();
  session.write({ kind: { case: 'hello', value: { workerId: 'w1' } } });
  assert.equal((await drain(session)).code, grpc.status.UNAUTHENTICATED);
  assert.equal(invoked, 0);

  const authed = client(t, WorkerService, address, { token: 's3cret-token' });
  assert.equal((await authed.register(registration)).workerId, 'w1');
  const authedSweep = client(t, SweepService, address, { token: 's3cret-token' });
  assert.equal((await drain(authedSweep.watch({ sweepName: 'x' }))).code, grpc.status.OK);
  const authedSession = authed.session();
  authedSession.end();
  assert.equal((await drain(authedSession)).code, grpc.status.OK);
  assert.equal(invoked, 3);
});

test('handler failures become INTERNAL (or their own gRPC code) and the server goes on serving', async (t) => {
  const errors: string[] = [];
  let calls = 0;
  const { address } = await serve(
    t,
    {
      worker: workerImpl({
        register: async (request) => {
          calls++;
          if (request.name === 'boom') throw new Error('boom');
          if (request.name === 'sync') JSON.parse('{'); // a synchronous throw from deep inside
          if (request.name === 'enoent') throw Object.assign(new Error('no such file'), { code: 'ENOENT' });
          if (request.name === 'gone') throw new RpcError(grpc.status.NOT_FOUND, 'unknown worker');
          return { workerId: 'ok' };
        },
        session: async () => {
          throw new Error('session exploded');
        },
      }),
      sweep: sweepImpl({
        watch: (call) => {
          call.write({ sweep: { name: 'half' } });
          throw new RpcError(grpc.status.FAILED_PRECONDITION, 'sweep vanished');
        },
      }),
    },
    {
      onError: (error, method) => {
        errors.push(`${method}: ${error instanceof Error ? error.message : String(error)}`);
        throw new Error('a failing logger is ignored');
      },
    },
  );
  const c = client(t, WorkerService, address);
  const failure = async (name: string) => {
    try {
      await c.register({ ...registration, name });
    } catch (error) {
      assert.ok(isServiceError(error));
      return [error.code, error.details];
    }
    return assert.fail('expected a failure');
  };
  assert.deepEqual(await failure('boom'), [grpc.status.INTERNAL, 'boom']);
  assert.equal((await failure('sync'))[0], grpc.status.INTERNAL);
  assert.deepEqual(await failure('enoent'), [grpc.status.INTERNAL, 'no such file']);
  assert.deepEqual(await failure('gone'), [grpc.status.NOT_FOUND, 'unknown worker']);
  assert.equal((await c.register(registration)).workerId, 'ok');
  assert.equal(calls, 5);

  const session = c.session({ deadline: deadline() });
  assert.equal((await drain(session)).code, grpc.status.INTERNAL);
  const sweeps = client(t, SweepService, address);
  const watched = await drain(sweeps.watch({ sweepName: 'x' }, { deadline: deadline() }));
  assert.equal(watched.code, grpc.status.FAILED_PRECONDITION);
  assert.equal(watched.messages.length, 1);
  assert.equal(watched.messages[0].sweep?.name, 'half');

  assert.equal((await c.register(registration)).workerId, 'ok'); // still serving
  assert.equal(errors.length, 6);
  assert.equal(errors[0], '/aimcsweep.v1.WorkerService/Register: boom');
  assert.ok(errors.includes('/aimcsweep.v1.WorkerService/Session: session exploded'));
  assert.ok(errors.includes('/aimcsweep.v1.SweepService/Watch: sweep vanished'));
});

test('oversized messages are RESOURCE_EXHAUSTED, on the server and on the client side', async (t) => {
  let submitted = 0;
  const bigStatus: MessageInitShape<typeof GetStatusResponseSchema> = {
    workers: Array.from({ length: 200 }, (_, i) => ({
      workerId: `worker-${i}`,
      name: 'n'.repeat(20),
      host: 'h'.repeat(20),
    })),
  };
  const { address } = await serve(
    t,
    {
      sweep: sweepImpl({
        submit: (request) => {
          submitted++;
          return { sweepName: request.fileName, totalRuns: request.specYaml.length };
        },
        getStatus: () => bigStatus,
      }),
    },
    {},
    { serverOptions: { 'grpc.max_receive_message_length': 1024 } },
  );
  const c = client(t, SweepService, address);
  assert.equal((await c.submit({ fileName: 'small.yaml', specYaml: 'x'.repeat(500) })).totalRuns, 500);
  assert.equal(
    await codeOf(c.submit({ fileName: 'big.yaml', specYaml: 'x'.repeat(4096) })),
    grpc.status.RESOURCE_EXHAUSTED,
  );
  assert.equal(submitted, 1);

  assert.equal((await c.getStatus({})).workers.length, 200); // about 10 kB, fine by default
  const small = client(t, SweepService, address, { channelOptions: { 'grpc.max_receive_message_length': 1024 } });
  assert.equal(await codeOf(small.getStatus({})), grpc.status.RESOURCE_EXHAUSTED);
});

test('a cancelled signal cancels a unary call', async (t) => {
  let entered: () => void = () => {};
  const inHandler = new Promise<void>((resolve) => (entered = resolve));
  const { address } = await serve(t, {
    worker: workerImpl({
      register: () => {
        entered();
        return new Promise(() => {}); // never answers
      },
    }),
  });
  const c = client(t, WorkerService, address);
  const controller = new AbortController();
  // no deadline: only the abort can end the call, once the server is handling it
  const pending = c.register(registration, { signal: controller.signal });
  await inHandler;
  controller.abort();
  assert.equal(await codeOf(pending), grpc.status.CANCELLED);
});

/** A self-signed certificate for localhost and 127.0.0.1 in a temporary directory, or why not. */
function selfSigned(t: TestContext): ServerTls | string {
  const probe = spawnSync('openssl', ['version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) return `openssl is not available (${probe.error?.message ?? probe.stderr})`;
  const dir = mkdtempSync(join(tmpdir(), 'aimc-tls-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const key = join(dir, 'key.pem');
  const cert = join(dir, 'cert.pem');
  const r = spawnSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
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
    { encoding: 'utf8', timeout: 10_000 },
  );
  if (r.status !== 0) return `openssl could not make a certificate: ${r.stderr}`;
  return { cert: readFileSync(cert), key: readFileSync(key) };
}

test('TLS with a self-signed certificate: trusted CA connects, plaintext and untrusted do not', async (t) => {
  const tls = selfSigned(t);
  if (typeof tls === 'string') {
    console.log(`skipping the TLS test: ${tls}`);
    t.skip(tls);
    return;
  }
  const { address } = await serve(
    t,
    { worker: workerImpl({ register: (request) => ({ workerId: `tls-${request.name}` }) }) },
    { token: 'tok' },
    { tls },
  );
  // the certificate names localhost (and 127.0.0.1); the override keeps Node from warning about
  // an IP address as TLS server name (DEP0123) when dialling 127.0.0.1
  const options = { token: 'tok', channelOptions: { 'grpc.ssl_target_name_override': 'localhost' } };
  const trusted = client(t, WorkerService, address, options, channelCredentials({ ca: tls.cert }));
  assert.equal((await trusted.register(registration, { deadline: deadline() })).workerId, 'tls-node-7');

  const plaintext = client(t, WorkerService, address, options);
  assert.equal(await codeOf(plaintext.register(registration, { deadline: deadline() })), grpc.status.UNAVAILABLE);
  const untrusted = client(t, WorkerService, address, options, channelCredentials({})); // system roots only
  assert.equal(await codeOf(untrusted.register(registration, { deadline: deadline() })), grpc.status.UNAVAILABLE);
});

test('bad tokens and client-streaming services are refused up front', () => {
  const server = new grpc.Server();
  assert.throws(() => addService(server, WorkerService, workerImpl(), { token: '' }), /auth token/);
  assert.throws(() => addService(server, WorkerService, workerImpl(), { token: ' padded ' }), /auth token/);
  assert.throws(
    () => createClient(WorkerService, '127.0.0.1:1', channelCredentials(), { token: 'a\nb' }),
    /auth token/,
  );
  assert.throws(
    () =>
      addService(server, WorkerService, { register: unimplemented } as unknown as ServiceImpl<typeof WorkerService>),
    /no handler for Session/,
  );
  const clientStreaming = {
    ...WorkerService,
    methods: WorkerService.methods.map((m) => ({ ...m, methodKind: 'client_streaming' as const })),
  };
  assert.throws(
    () => createClient(clientStreaming, '127.0.0.1:1', channelCredentials()),
    /client-streaming RPCs are not supported/,
  );
});
