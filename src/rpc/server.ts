/**
 * The server side of the bridge: handlers typed from a service descriptor, registered on a
 * grpc-js server with bearer-token authentication and error mapping (status.ts), and binding.
 */
import type { DescMessage, DescMethod, DescService, MessageInitShape, MessageShape } from '@bufbuild/protobuf';
import * as grpc from '@grpc/grpc-js';
import { assertToken, bearerChecker } from './auth.ts';
import { assertSupported, methodPath, type RequestOf, type ResponseInitOf, serviceDefinition } from './definition.ts';
import { errorToStatus } from './status.ts';

/** Handler of a unary RPC: the request in, the response (or its init object) out. */
export type UnaryHandler<M extends DescMethod> = (
  request: RequestOf<M>,
  call: grpc.ServerUnaryCall<RequestOf<M>, ResponseInitOf<M>>,
) => Promise<ResponseInitOf<M>> | ResponseInitOf<M>;

/**
 * Handler of a server-streaming RPC: writes responses to `call` and ends it (`call.end()`). The
 * handler owns the call's lifetime; returning does not end it.
 */
export type ServerStreamingHandler<M extends DescMethod> = (
  call: grpc.ServerWritableStream<RequestOf<M>, ResponseInitOf<M>>,
) => Promise<void> | void;

/**
 * The server side of a bidi-streaming call: grpc-js's ServerDuplexStream with its incoming
 * messages typed for 'data' listeners and `for await` (grpc-js types them `any` there).
 */
export interface ServerBidiCall<I, O> extends grpc.ServerDuplexStream<I, O> {
  on(event: 'data', listener: (message: I) => void): this;
  on(event: 'error', listener: (error: Error) => void): this;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- Node's own signature for the other events
  on(event: string | symbol, listener: (...args: any[]) => void): this;
  [Symbol.asyncIterator](): AsyncIterableIterator<I>;
}

/**
 * Handler of a bidi-streaming RPC: reads requests from `call` ('data' events or `for await`),
 * writes responses, ends it. The handler owns the call's lifetime; returning does not end it.
 */
export type BidiStreamingHandler<M extends DescMethod> = (
  call: ServerBidiCall<RequestOf<M>, ResponseInitOf<M>>,
) => Promise<void> | void;

/** The handler type of one method, by its kind. */
export type MethodHandler<M extends DescMethod> = M['methodKind'] extends 'unary'
  ? UnaryHandler<M>
  : M['methodKind'] extends 'server_streaming'
    ? ServerStreamingHandler<M>
    : M['methodKind'] extends 'bidi_streaming'
      ? BidiStreamingHandler<M>
      : never;

/** An implementation of a service: one handler per RPC, by the RPC's local name (`getStatus`). */
export type ServiceImpl<S extends DescService> = { [K in keyof S['method']]: MethodHandler<S['method'][K]> };

export interface ServerOptions {
  /**
   * Shared secret: when set, every call must carry `authorization: Bearer <token>`; any other
   * call is answered UNAUTHENTICATED before its handler runs.
   */
  token?: string;
  /**
   * Told about every handler failure (thrown, rejected) before it is answered, e.g. to log it.
   * `method` is the gRPC path. Exceptions thrown here are ignored.
   */
  onError?: (error: unknown, method: string) => void;
}

type Req = MessageShape<DescMessage>;
type Res = MessageInitShape<DescMessage>;
type AnyUnary = (request: Req, call: grpc.ServerUnaryCall<Req, Res>) => Promise<Res> | Res;
type AnyStreaming = (
  call: grpc.ServerWritableStream<Req, Res> | grpc.ServerDuplexStream<Req, Res>,
) => Promise<void> | void;

const UNAUTHENTICATED: grpc.ServerErrorResponse = Object.assign(new Error('missing or invalid bearer token'), {
  code: grpc.status.UNAUTHENTICATED,
  details: 'missing or invalid bearer token',
});

/** Runs `fn`, turning a synchronous throw into a rejection. */
function attempt<T>(fn: () => Promise<T> | T): Promise<T> {
  try {
    return Promise.resolve(fn());
  } catch (error) {
    return Promise.reject(error);
  }
}

/**
 * Registers `impl` for `service` on `server`. Every handler is wrapped: with `options.token`,
 * calls without the right bearer token are answered UNAUTHENTICATED and never reach it; a
 * handler that throws or rejects is answered with `errorToStatus` of the error (INTERNAL unless
 * it carries a gRPC code) and the server goes on serving.
 */
export function addService<S extends DescService>(
  server: grpc.Server,
  service: S,
  impl: ServiceImpl<S>,
  options: ServerOptions = {},
): void {
  assertSupported(service);
  if (options.token !== undefined) assertToken(options.token);
  const authorized = options.token === undefined ? () => true : bearerChecker(options.token);
  const report = (error: unknown, path: string): void => {
    try {
      options.onError?.(error, path);
    } catch {
      // a failing logger must not take the call (or the server) down
    }
  };
  const handlers: grpc.UntypedServiceImplementation = {};
  const given = impl as Record<string, unknown>;
  for (const method of service.methods) {
    const handler = given[method.localName];
    const path = methodPath(method);
    if (typeof handler !== 'function')
      throw new Error(`${service.typeName}: no handler for ${method.name} (${method.localName})`);
    if (method.methodKind === 'unary') {
      const unary = handler as AnyUnary;
      const wrapped: grpc.handleUnaryCall<Req, Res> = (call, callback) => {
        if (!authorized(call.metadata)) {
          callback(UNAUTHENTICATED);
          return;
        }
        attempt(() => unary(call.request, call)).then(
          (response) => callback(null, response),
          (error: unknown) => {
            report(error, path);
            callback(errorToStatus(error));
          },
        );
      };
      handlers[method.localName] = wrapped;
    } else {
      const streaming = handler as AnyStreaming;
      const fail = (
        call: grpc.ServerWritableStream<Req, Res> | grpc.ServerDuplexStream<Req, Res>,
        status: grpc.ServerErrorResponse,
      ) => {
        // grpc-js answers a stream's 'error' event with that status; once ended, nothing to say
        if (!call.writableEnded && !call.destroyed) call.emit('error', status);
      };
      const wrapped = (call: grpc.ServerWritableStream<Req, Res> | grpc.ServerDuplexStream<Req, Res>): void => {
        if (!authorized(call.metadata)) {
          fail(call, UNAUTHENTICATED);
          return;
        }
        attempt(() => streaming(call)).catch((error: unknown) => {
          report(error, path);
          fail(call, errorToStatus(error));
        });
      };
      handlers[method.localName] = wrapped;
    }
  }
  server.addService(serviceDefinition(service), handlers);
}

/** Binds `server` to `address` (`host:port`, port 0: any free one); resolves to the bound port. */
export function bindServer(server: grpc.Server, address: string, credentials: grpc.ServerCredentials): Promise<number> {
  return new Promise((resolve, reject) => {
    server.bindAsync(address, credentials, (error, port) => (error ? reject(error) : resolve(port)));
  });
}
