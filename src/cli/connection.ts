/**
 * What the networked commands (serve, worker, submit, status) share: reading the token and TLS
 * files, building credentials, and checking `host:port` addresses, each with errors that name
 * the option and the file.
 */
import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { assertToken } from '../rpc/auth.ts';
import { channelCredentials, isServiceError, serverCredentials } from '../rpc/bridge.ts';
import { UsageError } from './errors.ts';

function readOption(option: string, file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (e) {
    throw new UsageError(`${option} ${file}: cannot read (${(e as Error).message})`);
  }
}

/** The shared token from --token-file (surrounding whitespace, e.g. a final newline, dropped). */
export function readToken(file: string | undefined): string | undefined {
  if (file === undefined) return undefined;
  const token = readOption('--token-file', file).toString('utf8').trim();
  try {
    assertToken(token);
  } catch {
    throw new UsageError(`--token-file ${file}: expected one non-empty line (the shared token)`);
  }
  return token;
}

/** `host:port` with a port in 1..65535 (0 allowed for listening on any free port). */
export function checkAddress(option: string, address: string, allowPortZero = false): string {
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:\s]+):(\d+)$/.exec(address);
  const port = m ? Number(m[2]) : Number.NaN;
  if (!m || !(port <= 65535) || (port === 0 && !allowPortZero)) {
    throw new UsageError(`${option}: expected host:port, got ${JSON.stringify(address)}`);
  }
  return address;
}

export function serverCredentialsFrom(cert: string | undefined, key: string | undefined): grpc.ServerCredentials {
  if ((cert === undefined) !== (key === undefined))
    throw new UsageError('--tls-cert and --tls-key: give both or neither');
  if (cert === undefined || key === undefined) return serverCredentials();
  return serverCredentials({ cert: readOption('--tls-cert', cert), key: readOption('--tls-key', key) });
}

export function channelCredentialsFrom(ca: string | undefined, tls: boolean): grpc.ChannelCredentials {
  if (ca !== undefined) return channelCredentials({ ca: readOption('--tls-ca', ca) });
  return tls ? channelCredentials({}) : channelCredentials();
}

/**
 * A call to the coordinator at `address` that failed with a gRPC status (wrong token, refused
 * sweep, unreachable): a UsageError naming the address and the status (exit 2); other errors
 * (bugs, local failures) as they are.
 */
export function coordinatorError(address: string, e: unknown): unknown {
  return isServiceError(e) ? new UsageError(`${address}: ${grpc.status[e.code]}: ${e.details || e.message}`) : e;
}

/** Options of the client commands (worker, submit, status --coordinator). */
export const CLIENT_OPTIONS = {
  'token-file': { type: 'string', describe: 'file holding the shared token of the coordinator' },
  'tls-ca': { type: 'string', describe: 'PEM certificate(s) to trust for a TLS coordinator' },
  tls: { type: 'boolean', default: false, describe: 'connect with TLS using the system roots' },
} as const;

/**
 * Waits up to `seconds` for the coordinator at `address` to accept a connection (it may still be
 * starting: a Slurm coordinator job writes its address before it listens); says so on stderr
 * after 2 s. A UsageError when none answers in time.
 */
export async function awaitCoordinator(
  client: { $waitForReady(deadline: grpc.Deadline): Promise<void> },
  address: string,
  seconds: number,
): Promise<void> {
  const notice = setTimeout(
    () => process.stderr.write(`waiting up to ${seconds} s for the coordinator at ${address} ...\n`),
    2000,
  );
  try {
    await client.$waitForReady(Date.now() + seconds * 1000);
  } catch {
    throw new UsageError(`${address}: no coordinator answered within ${seconds} s (--connect-timeout)`);
  } finally {
    clearTimeout(notice);
  }
}
