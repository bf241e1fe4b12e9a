/**
 * The contract's two services (proto/aimcsweep/v1, generated into src/gen) as their endpoints
 * name them: the coordinator serves both (src/coordinator/service.ts), a worker node calls
 * WorkerService (src/worker/agent.ts), `submit` and `status` call SweepService (src/cli/).
 *
 * Outside src/rpc nothing imports src/gen: an endpoint takes the message types of a method from
 * its descriptor (`RequestOf`, `ResponseInitOf`, ... of bridge.ts), and values cross between
 * wire messages and our types in convert.ts. A new version of the contract changes this room.
 */
export { SweepService } from '../gen/aimcsweep/v1/sweep_pb.ts';
export { WorkerService } from '../gen/aimcsweep/v1/worker_pb.ts';
