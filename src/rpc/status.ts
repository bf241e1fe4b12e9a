/**
 * gRPC statuses and our errors. A handler failure is answered with `errorToStatus`, whose code is
 * `statusCodeOf` the error: the one map from errors to gRPC statuses, from the classification of
 * src/errors.ts (the CLI's exit codes are derived from the same one). On the client side, grpc-js
 * rejects calls with ServiceErrors (`isServiceError`).
 */
import * as grpc from '@grpc/grpc-js';
import { isInputError } from '../errors.ts';

/** An error carrying a gRPC status: thrown by a handler, it is answered with that status. */
export class RpcError extends Error {
  readonly code: grpc.status;
  readonly details: string;
  readonly metadata: grpc.Metadata | undefined;

  constructor(code: grpc.status, details: string, metadata?: grpc.Metadata) {
    super(details);
    this.name = 'RpcError';
    this.code = code;
    this.details = details;
    this.metadata = metadata;
  }
}

/** Whether `error` is what grpc-js rejects client calls with (an Error carrying a numeric status code). */
export function isServiceError(error: unknown): error is grpc.ServiceError {
  return error instanceof Error && typeof (error as { code?: unknown }).code === 'number';
}

const isStatusCode = (code: unknown): code is grpc.status =>
  typeof code === 'number' && Number.isInteger(code) && code > grpc.status.OK && code <= grpc.status.UNAUTHENTICATED;

/**
 * The gRPC status code of an error: the code it carries (RpcError, a grpc-js ServiceError),
 * INVALID_ARGUMENT for bad input the peer can fix (an InputError: a sweep or config it sent),
 * else INTERNAL. A handler whose own resources fail with an InputError (the coordinator's
 * database, say) answers with an RpcError of its choice: that is not the peer's input.
 */
export function statusCodeOf(error: unknown): grpc.status {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  if (isStatusCode(code)) return code;
  return isInputError(error) ? grpc.status.INVALID_ARGUMENT : grpc.status.INTERNAL;
}

/**
 * The status a handler failure is answered with: `statusCodeOf` the error, with its `details`
 * (an RpcError's) or its message, and its metadata when it carries some.
 */
export function errorToStatus(error: unknown): grpc.ServerErrorResponse {
  const fields = typeof error === 'object' && error !== null ? (error as Record<string, unknown>) : {};
  const message = error instanceof Error ? error.message : String(error);
  const details = typeof fields.details === 'string' ? fields.details : message;
  const status: grpc.ServerErrorResponse = Object.assign(new Error(details), { code: statusCodeOf(error), details });
  if (fields.metadata instanceof grpc.Metadata) status.metadata = fields.metadata;
  return status;
}
