/**
 * The client side of the bridge: a typed client of a service descriptor, one function per RPC
 * (unary: a promise; server streaming: a readable stream; bidi: a duplex stream), with the
 * bearer token on every call and cancellation through an AbortSignal.
 */
import type { DescMessage, DescMethod, DescService, MessageInitShape } from '@bufbuild/protobuf';
import * as grpc from '@grpc/grpc-js';
import { assertToken, setBearer } from './auth.ts';
import { assertSupported, methodDefinition, type RequestInitOf, type ResponseOf } from './definition.ts';
import { RpcError } from './status.ts';

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

export type UnaryMethod<M extends DescMethod> = (
  request: RequestInitOf<M>,
  options?: CallOptions,
) => Promise<ResponseOf<M>>;
export type ServerStreamingMethod<M extends DescMethod> = (
  request: RequestInitOf<M>,
  options?: CallOptions,
) => ServerStream<ResponseOf<M>>;
export type BidiStreamingMethod<M extends DescMethod> = (
  options?: CallOptions,
) => BidiStream<RequestInitOf<M>, ResponseOf<M>>;

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

export interface ClientOptions {
  /** sent as `authorization: Bearer <token>` on every call */
  token?: string;
  /** grpc-js channel options (`grpc.max_receive_message_length`, keepalive, ...) and interceptors */
  channelOptions?: grpc.ClientOptions;
}

type Res = MessageInitShape<DescMessage>;

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
  const callOptionsFor = (opts: CallOptions): grpc.CallOptions =>
    opts.deadline === undefined ? {} : { deadline: opts.deadline };

  const client: Record<string, unknown> = {
    $grpc: channel,
    $close: () => channel.close(),
    $waitForReady: (deadline: grpc.Deadline) =>
      new Promise<void>((resolve, reject) =>
        channel.waitForReady(deadline, (error) => (error ? reject(error) : resolve())),
      ),
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
        const call = channel.makeBidiStreamRequest(
          def.path,
          def.requestSerialize,
          def.responseDeserialize,
          metadataFor(opts),
          callOptionsFor(opts),
        );
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
