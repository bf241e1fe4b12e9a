/**
 * Service descriptors (protobuf-es, src/gen: no gRPC stubs there) as grpc-js sees them: the
 * message types a method takes and returns, its gRPC path, and a grpc-js ServiceDefinition whose
 * (de)serializers go through protobuf-es binary encoding.
 *
 * Message typing: what a side receives is the full message (`MessageShape`), what it sends may
 * be a message or a plain init object (`MessageInitShape`, as `create()` takes).
 *
 * Received `bytes` fields are views into a per-message copy of the frame (never into grpc-js's
 * pooled buffers), but they may start at any offset: copy (`slice()`) before reinterpreting one
 * as a wider typed array.
 */
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import type { DescMessage, DescMethod, DescService, MessageInitShape, MessageShape } from '@bufbuild/protobuf';
import type * as grpc from '@grpc/grpc-js';

/** The request as a handler receives it. */
export type RequestOf<M extends DescMethod> = MessageShape<M['input']>;
/** The request as a client may send it (a message or an init object). */
export type RequestInitOf<M extends DescMethod> = MessageInitShape<M['input']>;
/** The response as a client receives it. */
export type ResponseOf<M extends DescMethod> = MessageShape<M['output']>;
/** The response as a handler may send it (a message or an init object). */
export type ResponseInitOf<M extends DescMethod> = MessageInitShape<M['output']>;

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

/** A grpc-js method definition of any message types (the bridge's own calls type them). */
export type AnyMethodDefinition = grpc.MethodDefinition<MessageInitShape<DescMessage>, MessageInitShape<DescMessage>>;

/** The grpc-js definition of one method. */
export function methodDefinition(method: DescMethod): AnyMethodDefinition {
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

/** Throws for a service the bridge cannot serve or call: one with a client-streaming RPC (the contract has none). */
export function assertSupported(service: DescService): void {
  const unsupported = service.methods.filter((m) => m.methodKind === 'client_streaming');
  if (unsupported.length > 0) {
    const names = unsupported.map((m) => m.name).join(', ');
    throw new Error(`${service.typeName}: client-streaming RPCs are not supported by the bridge (${names})`);
  }
}
