/**
 * The log cleaner's worker thread: holds the offset map of the cleaning in progress and runs the
 * computation of cleaner-core.ts (decompressing, hashing keys, filtering, recompressing) off the event loop.
 * The segment files are read and written by the main thread, through the broker's StorageFs.
 */
import { parentPort } from 'node:worker_threads';
import { CleanerComputation, type CleanerRequest } from './cleaner-engine.js';

const port = parentPort;
if (!port) throw new Error('cleaner-worker.js runs as a worker thread');
const computation = new CleanerComputation();

port.on('message', (message: { id: number; request: CleanerRequest }) => {
  computation.handle(message.request).then(
    (result) => {
      // Buffers from the computation may be views of larger pools: copy each into a buffer of its own to transfer.
      const transfer: ArrayBuffer[] = [];
      if (result && typeof result === 'object' && 'output' in result) {
        const output = result.output as Uint8Array;
        const copy = new Uint8Array(output.length);
        copy.set(output);
        transfer.push(copy.buffer);
        port.postMessage({ id: message.id, result: { ...result, output: copy } }, transfer);
        return;
      }
      port.postMessage({ id: message.id, result });
    },
    (err: unknown) => port.postMessage({ id: message.id, error: err instanceof Error ? err.message : String(err) }),
  );
});
