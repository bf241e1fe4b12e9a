/**
 * The thread of SweepExpander (expand-thread.ts): parses and expands one submitted sweep per
 * message, off the coordinator's event loop, and posts back the spec and the expansion, or the
 * error (a SweepError's message, or a failure's).
 */
import { parentPort } from 'node:worker_threads';
import { expandSweep } from './expand.ts';
import { parseSweepText, SweepError } from './spec.ts';
import type { ExpandReply, ExpandRequest } from './expand-thread.ts';

const port = parentPort;
if (port === null) throw new Error('expand-worker.ts runs as a worker thread (SweepExpander)');

port.on('message', (req: ExpandRequest) => {
  let reply: ExpandReply;
  try {
    const spec = parseSweepText(req.text, req.file);
    const expansion = expandSweep(spec, { maxRuns: req.maxRuns });
    reply = { id: req.id, ok: true, spec, expansion };
  } catch (e) {
    reply = {
      id: req.id,
      ok: false,
      sweepError: e instanceof SweepError,
      message: e instanceof Error ? e.message : String(e),
    };
  }
  port.postMessage(reply);
});
