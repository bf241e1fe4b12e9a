/**
 * The one typed bridge between protobuf-es service descriptors (src/gen, which has no gRPC stubs)
 * and @grpc/grpc-js: a grpc-js ServiceDefinition from a descriptor, a server side whose handlers
 * are typed from the descriptor (with bearer-token auth and error mapping), and a typed client.
 *
 * Message typing: what a side receives is the full message (`MessageShape`), what it sends may
 * be a message or a plain init object (`MessageInitShape`, as `create()` takes).
 *
 * Received `bytes` fields are views into a per-message copy of the frame (never into grpc-js's
 * pooled buffers), but they may start at any offset: copy (`slice()`) before reinterpreting one
 * as a wider typed array.
 *
 * Client-streaming RPCs are not supported (the contract has none): addService and createClient
 * throw on a service that declares one.
 */
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import type { DescMessage, DescMethod, DescService, MessageInitShape, MessageShape } from '@bufbuild/protobuf';
import * as grpc from '@grpc/grpc-js';
import { assertToken, bearerChecker, setBearer } from './auth.ts';

export { channelCredentials, serverCredentials, type ClientTls, type ServerTls } from './auth.ts';

// ---------------------------------------------------------------------------------------------
// Types derived from descriptors

/** The request as a handler receives it. */
export type RequestOf<M extends DescMethod> = MessageShape<M['input']>;
/** The request as a client may send it (a message or an init object). */
export type RequestInitOf<M extends DescMethod> = MessageInitShape<M['input']>;
/** The response as a client receives it. */
export type ResponseOf<M extends DescMethod> = MessageShape<M['output']>;
/** The response as a handler may send it (a message or an init object). */
export type ResponseInitOf<M extends DescMethod> = MessageInitShape<M['output']>;

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
export type BidiStreamingHandler<M extends DescMethod> = (call: ServerBidiCall<RequestOf<M>, ResponseInitOf<M>>) => Promise<void> | void;

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

/** Per-call options of the client. */
export interface CallOptions {
  /** extra request metadata (copied; the bearer token is added to the copy) */
  metadata?: grpc.Metadata;
  /** deadline of the call (a Date or milliseconds since the epoch) */
  deadline?: grpc.Deadline;
  /** cancels the call (unary: the promise rejects with CANCELLED) */
  signal?: AbortSignal;
}

/**
 * Responses of a server-streaming call: the grpc-js stream (events 'data', 'error', 'status';
 * `cancel()`), iterable with `for await` (a non-OK status is thrown as a grpc.ServiceError).
 * Listen to 'error' or iterate: an unhandled 'error' event throws, as for any Node stream.
 */
export interface ServerStream<T> extends grpc.ClientReadableStream<T> {
  on(event: 'data', listener: (message: T) => void): this;
  on(event: 'error', listener: (error: grpc.ServiceError) => void): this;
  on(event: 'status', listener: (status: grpc.StatusObject) => void): this;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- Node's own signature for the other events
  on(event: string | symbol, listener: (...args: any[]) => void): this;
  [Symbol.asyncIterator](): AsyncIterableIterator<T>;
}

/**
 * A bidi-streaming call: `write()` requests (messages or init objects), `end()` to half-close,
 * responses as 'data' events or through `for await`; `cancel()`. Same 'error' rule as ServerStream.
 */
export interface BidiStream<I, O> extends grpc.ClientDuplexStream<I, O> {
  on(event: 'data', listener: (message: O) => void): this;
  on(event: 'error', listener: (error: grpc.ServiceError) => void): this;
  on(event: 'status', listener: (status: grpc.StatusObject) => void): this;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- Node's own signature for the other events
  on(event: string | symbol, listener: (...args: any[]) => void): this;
  [Symbol.asyncIterator](): AsyncIterableIterator<O>;
}

export type UnaryMethod<M extends DescMethod> = (request: RequestInitOf<M>, options?: CallOptions) => Promise<ResponseOf<M>>;
export type ServerStreamingMethod<M extends DescMethod> = (
  request: RequestInitOf<M>,
  options?: CallOptions,
) => ServerStream<ResponseOf<M>>;
export type BidiStreamingMethod<M extends DescMethod> = (options?: CallOptions) => BidiStream<RequestInitOf<M>, ResponseOf<M>>;

/** The client function of one method, by its kind. */
export type ClientMethod<M extends DescMethod> = M['methodKind'] extends 'unary'
  ? UnaryMethod<M>
  : M['methodKind'] extends 'server_streaming'
    ? ServerStreamingMethod<M>
    : M['methodKind'] extends 'bidi_streaming'
      ? BidiStreamingMethod<M>
      : never;

/**
 * A typed client: one function per RPC by its local name, plus `$`-prefixed controls (protobuf
 * names cannot contain `$`, so they never collide with an RPC).
 */
export type Client<S extends DescService> = { [K in keyof S['method']]: ClientMethod<S['method'][K]> } & {
  /** the underlying grpc-js client (channel state, interceptors) */
  readonly $grpc: grpc.Client;
  /** closes the channel: new calls fail at once (cancel long-lived streams yourself) */
  $close(): void;
  /** resolves once the channel is connected, rejects at the deadline */
  $waitForReady(deadline: grpc.Deadline): Promise<void>;
};

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

export interface ClientOptions {
  /** sent as `authorization: Bearer <token>` on every call */
  token?: string;
  /** grpc-js channel options (`grpc.max_receive_message_length`, keepalive, ...) and interceptors */
  channelOptions?: grpc.ClientOptions;
}

// ---------------------------------------------------------------------------------------------
// Errors

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
 * The status a handler failure is answered with: the `code` (and `details`) of an error that
 * carries a gRPC status code, else INTERNAL with the error's message.
 */
export function errorToStatus(error: unknown): grpc.ServerErrorResponse {
  const fields = typeof error === 'object' && error !== null ? (error as Record<string, unknown>) : {};
  const message = error instanceof Error ? error.message : String(error);
  const details = typeof fields.details === 'string' ? fields.details : message;
  const code = isStatusCode(fields.code) ? fields.code : grpc.status.INTERNAL;
  const status: grpc.ServerErrorResponse = Object.assign(new Error(details), { code, details });
  if (fields.metadata instanceof grpc.Metadata) status.metadata = fields.metadata;
  return status;
}

// ---------------------------------------------------------------------------------------------
// Service definition

/** The gRPC path of a method: `/aimcsweep.v1.WorkerService/Register`. */
export const methodPath = (method: DescMethod): string => `/${method.parent.typeName}/${method.name}`;

function serializer<D extends DescMessage>(schema: D): (value: MessageInitShape<D>) => Buffer {
  return (value) => {
    const bytes = toBinary(schema, create(schema, value));
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  };
}

function deserializer<D extends DescMessage>(schema: D): (frame: Buffer) => MessageShape<D> {
  // new Uint8Array(buffer) copies: the message never aliases grpc-js's (pooled) frame buffer
  return (frame) => fromBinary(schema, new Uint8Array(frame));
}

type AnyMethodDefinition = grpc.MethodDefinition<MessageInitShape<DescMessage>, MessageInitShape<DescMessage>>;

function methodDefinition(method: DescMethod): AnyMethodDefinition {
  const kind = method.methodKind;
  return {
    path: methodPath(method),
    requestStream: kind === 'client_streaming' || kind === 'bidi_streaming',
    responseStream: kind === 'server_streaming' || kind === 'bidi_streaming',
    requestSerialize: serializer(method.input),
    requestDeserialize: deserializer(method.input),
    responseSerialize: serializer(method.output),
    responseDeserialize: deserializer(method.output),
    originalName: method.localName,
  };
}

/** The grpc-js ServiceDefinition of a service, keyed by the RPCs' local names. */
export function serviceDefinition(service: DescService): grpc.ServiceDefinition {
  const definition: Record<string, AnyMethodDefinition> = {};
  for (const method of service.methods) definition[method.localName] = methodDefinition(method);
  return definition;
}

function assertSupported(service: DescService): void {
  const unsupported = service.methods.filter((m) => m.methodKind === 'client_streaming');
  if (unsupported.length > 0) {
    const names = unsupported.map((m) => m.name).join(', ');
    throw new Error(`${service.typeName}: client-streaming RPCs are not supported by the bridge (${names})`);
  }
}

// ---------------------------------------------------------------------------------------------
// Server

type Req = MessageShape<DescMessage>;
type Res = MessageInitShape<DescMessage>;
type AnyUnary = (request: Req, call: grpc.ServerUnaryCall<Req, Res>) => Promise<Res> | Res;
type AnyStreaming = (call: grpc.ServerWritableStream<Req, Res> | grpc.ServerDuplexStream<Req, Res>) => Promise<void> | void;

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
    if (typeof handler !== 'function') throw new Error(`${service.typeName}: no handler for ${method.name} (${method.localName})`);
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
      const fail = (call: grpc.ServerWritableStream<Req, Res> | grpc.ServerDuplexStream<Req, Res>, status: grpc.ServerErrorResponse) => {
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

// ---------------------------------------------------------------------------------------------
// Client

/**
 * A typed client of `service` at `address` (`host:port`). With `options.token`, every call
 * carries `authorization: Bearer <token>`.
 */
export function createClient<S extends DescService>(
  service: S,
  address: string,
  credentials: grpc.ChannelCredentials,
  options: ClientOptions = {},
): Client<S> {
  assertSupported(service);
  const { token } = options;
  if (token !== undefined) assertToken(token);
  const channel = new grpc.Client(address, credentials, options.channelOptions);
  const metadataFor = (opts: CallOptions): grpc.Metadata => {
    const metadata = opts.metadata?.clone() ?? new grpc.Metadata();
    return token === undefined ? metadata : setBearer(metadata, token);
  };
  const callOptionsFor = (opts: CallOptions): grpc.CallOptions => (opts.deadline === undefined ? {} : { deadline: opts.deadline });

  const client: Record<string, unknown> = {
    $grpc: channel,
    $close: () => channel.close(),
    $waitForReady: (deadline: grpc.Deadline) =>
      new Promise<void>((resolve, reject) => channel.waitForReady(deadline, (error) => (error ? reject(error) : resolve()))),
  };
  for (const method of service.methods) {
    const def = methodDefinition(method);
    if (method.methodKind === 'unary') {
      client[method.localName] = (request: Res, opts: CallOptions = {}): Promise<Res> =>
        new Promise((resolve, reject) => {
          const { signal } = opts;
          if (signal?.aborted) {
            reject(new RpcError(grpc.status.CANCELLED, 'call aborted before it started'));
            return;
          }
          const onAbort = (): void => call.cancel();
          const call = channel.makeUnaryRequest(
            def.path,
            def.requestSerialize,
            def.responseDeserialize,
            request,
            metadataFor(opts),
            callOptionsFor(opts),
            (error, response) => {
              signal?.removeEventListener('abort', onAbort);
              if (error) reject(error);
              else resolve(response as Res);
            },
          );
          signal?.addEventListener('abort', onAbort, { once: true });
        });
    } else if (method.methodKind === 'server_streaming') {
      client[method.localName] = (request: Res, opts: CallOptions = {}) => {
        const call = channel.makeServerStreamRequest(
          def.path,
          def.requestSerialize,
          def.responseDeserialize,
          request,
          metadataFor(opts),
          callOptionsFor(opts),
        );
        cancelOnAbort(call, opts.signal);
        return call;
      };
    } else {
      client[method.localName] = (opts: CallOptions = {}) => {
        const call = channel.makeBidiStreamRequest(def.path, def.requestSerialize, def.responseDeserialize, metadataFor(opts), callOptionsFor(opts));
        cancelOnAbort(call, opts.signal);
        return call;
      };
    }
  }
  return client as Client<S>;
}

function cancelOnAbort(call: grpc.ClientReadableStream<unknown>, signal: AbortSignal | undefined): void {
  if (signal === undefined) return;
  if (signal.aborted) {
    call.cancel();
    return;
  }
  const onAbort = (): void => call.cancel();
  signal.addEventListener('abort', onAbort, { once: true });
  call.once('status', () => signal.removeEventListener('abort', onAbort));
}
