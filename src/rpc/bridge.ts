/**
 * The one typed bridge between protobuf-es service descriptors (src/gen, which has no gRPC stubs)
 * and @grpc/grpc-js, used by every server and client: this module is its public face. Its parts,
 * one job each:
 *
 * - definition.ts: the message types of a method, its gRPC path, the grpc-js ServiceDefinition
 * - server.ts: handlers typed from a descriptor, registered with bearer-token auth (addService)
 * - client.ts: a typed client (createClient)
 * - status.ts: gRPC statuses and our errors (RpcError, errorToStatus, isServiceError)
 * - auth.ts: the bearer token and TLS credentials
 *
 * Message typing: what a side receives is the full message (`MessageShape`), what it sends may
 * be a message or a plain init object (`MessageInitShape`, as `create()` takes).
 *
 * Client-streaming RPCs are not supported (the contract has none): addService and createClient
 * throw on a service that declares one.
 */
export { channelCredentials, serverCredentials, type ClientTls, type ServerTls } from './auth.ts';
export {
  type BidiStream,
  type BidiStreamingMethod,
  type CallOptions,
  type Client,
  type ClientMethod,
  type ClientOptions,
  createClient,
  type ServerStream,
  type ServerStreamingMethod,
  type UnaryMethod,
} from './client.ts';
export {
  methodPath,
  type RequestInitOf,
  type RequestOf,
  type ResponseInitOf,
  type ResponseOf,
  serviceDefinition,
} from './definition.ts';
export {
  addService,
  type BidiStreamingHandler,
  bindServer,
  type MethodHandler,
  type ServerBidiCall,
  type ServerOptions,
  type ServerStreamingHandler,
  type ServiceImpl,
  type UnaryHandler,
} from './server.ts';
export { errorToStatus, isServiceError, RpcError, statusCodeOf } from './status.ts';
