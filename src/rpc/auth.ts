/**
 * Transport security for the gRPC bridge: the shared bearer token (metadata
 * `authorization: Bearer <token>`, compared in constant time) and insecure/TLS credentials.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';

/** The metadata key that carries the token (gRPC metadata keys are lowercase). */
export const AUTHORIZATION_KEY = 'authorization';

/** Throws unless `token` is usable: a non-empty string without whitespace at its ends or line breaks. */
export function assertToken(token: string): void {
  if (token.length === 0 || token.trim() !== token || /[\r\n]/.test(token)) {
    throw new Error('auth token: expected a non-empty string without surrounding whitespace or line breaks');
  }
}

/** Sets `authorization: Bearer <token>` on `metadata` (replacing any value) and returns it. */
export function setBearer(metadata: grpc.Metadata, token: string): grpc.Metadata {
  metadata.set(AUTHORIZATION_KEY, `Bearer ${token}`);
  return metadata;
}

const digest = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();

/**
 * A predicate accepting exactly the metadata that carries one `authorization: Bearer <token>`
 * value (the scheme is case-insensitive, as RFC 6750 says). Both sides are hashed before a
 * constant-time comparison, so neither the token's content nor its length leaks through timing.
 */
export function bearerChecker(token: string): (metadata: grpc.Metadata) => boolean {
  assertToken(token);
  const expected = digest(token);
  return (metadata) => {
    const values = metadata.get(AUTHORIZATION_KEY);
    if (values.length !== 1 || typeof values[0] !== 'string') return false;
    const match = /^bearer +(.*)$/i.exec(values[0]);
    if (match === null) return false;
    return timingSafeEqual(digest(match[1]), expected);
  };
}

/** A PEM certificate chain and its private key, for a TLS server. */
export interface ServerTls {
  /** certificate chain, PEM (the server's certificate first) */
  cert: string | Buffer;
  /** private key of the certificate, PEM */
  key: string | Buffer;
}

/** What a TLS client trusts. */
export interface ClientTls {
  /** CA certificate(s), PEM, that sign the server's certificate; absent: the system's roots */
  ca?: string | Buffer;
}

const pem = (value: string | Buffer): Buffer => (typeof value === 'string' ? Buffer.from(value, 'utf8') : value);

/** Server credentials: insecure without `tls`, else TLS with that certificate (no client certificates). */
export function serverCredentials(tls?: ServerTls): grpc.ServerCredentials {
  if (tls === undefined) return grpc.ServerCredentials.createInsecure();
  return grpc.ServerCredentials.createSsl(null, [{ cert_chain: pem(tls.cert), private_key: pem(tls.key) }], false);
}

/**
 * Channel credentials: insecure without `tls`, else TLS verifying the server against `tls.ca` (or
 * the system's roots). A certificate issued for another name than the address dialled needs the
 * channel option `grpc.ssl_target_name_override`.
 */
export function channelCredentials(tls?: ClientTls): grpc.ChannelCredentials {
  if (tls === undefined) return grpc.credentials.createInsecure();
  return grpc.credentials.createSsl(tls.ca === undefined ? null : pem(tls.ca));
}
