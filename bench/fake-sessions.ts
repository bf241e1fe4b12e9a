/**
 * Simulated worker sessions for the coordinator throughput benchmark (a child process; argv:
 * address, sessions, slots; prints "ready" once every session is open):
 * each registers, opens its session and answers every lease at once with a well-formed result,
 * so the figure measures the coordinator (leasing, validation, SQLite), not training.
 */
import { NUMERICS_VERSION } from '../src/core/version.ts';
import { type SessionResponse, WorkerService } from '../src/gen/aimcsweep/v1/worker_pb.ts';
import { channelCredentials, createClient } from '../src/rpc/bridge.ts';

const [address, sessions, slots] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4])];
const client = createClient(WorkerService, address, channelCredentials());
const result = {
  numericsVersion: NUMERICS_VERSION,
  history: [
    { epoch: 0, trainLoss: 1, pulses: { W: 0 } },
    { epoch: 1, trainLoss: 0.5, pulses: { W: 3 } },
  ],
  weightsDigest: '0123456789abcdef',
};

for (let i = 0; i < sessions; i++) {
  const { workerId } = await client.register({
    name: `fake-${i}`,
    host: 'bench',
    slots,
    numericsVersion: NUMERICS_VERSION,
  });
  const stream = client.session();
  let received = 0;
  let held = 0;
  stream.on('data', (m: SessionResponse) => {
    if (m.kind.case === 'lease') {
      received++;
      held++;
      stream.write({ kind: { case: 'result', value: { lease: m.kind.value.lease, result } } });
    } else if (m.kind.case === 'ack') {
      held--;
      stream.write({ kind: { case: 'slots', value: { free: slots - held, leasesReceived: received } } });
    }
  });
  stream.on('error', () => {});
  stream.write({ kind: { case: 'hello', value: { workerId } } });
  stream.write({ kind: { case: 'slots', value: { free: slots, leasesReceived: 0 } } });
}
process.stdout.write('ready\n');
