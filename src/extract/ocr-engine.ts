/**
 * The OCR engine's thread: tesseract.js's own worker script for Node, plus one thing. Before
 * each reading the engine's WebAssembly memory is put back as it was before the first one, so a
 * reading depends on its page alone. Without this, what the engine had read before changed what
 * it read next (state that survives even End() and Init(): pictures with almost no writing gave
 * text or no text depending on which engine instance, hence which scanning thread, read them).
 * Restoring is a copy of the engine's memory (~21 MB after start, ~10 ms), against ~1.5 s for
 * starting a new engine, which would give the same guarantee.
 *
 * Also: the engine cannot download (no fetch) nor write its cache of language data; it reads
 * the model from node_modules, as tesseract.js's Node adapter does, and nothing else.
 *
 * Started by ocr.ts as tesseract.js's `workerPath`; it imports nothing from the project.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { parentPort } from 'node:worker_threads';

interface Packet {
  readonly action?: string;
}
interface WorkerScript {
  dispatchHandlers(packet: Packet, send: (message: unknown) => void): void;
  setAdapter(adapter: Record<string, unknown>): void;
}

const port = parentPort;
if (!port) throw new Error('ocr-engine.ts runs as the OCR engine thread only');

/** The part of the WebAssembly API used here (the ES lib this project compiles against has no types for it). */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
}
interface WasmApi {
  instantiate(...args: unknown[]): Promise<unknown>;
  Memory: abstract new (...args: never[]) => WasmMemory;
}
const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

let memory: WasmMemory | undefined;
const instantiate = wasm.instantiate.bind(wasm);
// The engine does not export its memory to JavaScript: take it from the instance it creates
// (this thread runs the engine only).
wasm.instantiate = async (...args: unknown[]): Promise<unknown> => {
  const made = await instantiate(...args);
  const instance = (made as { instance?: { exports?: object } }).instance ?? (made as { exports?: object });
  for (const value of Object.values(instance.exports ?? {})) if (value instanceof wasm.Memory) memory = value;
  return made;
};

/** The engine's memory as it was when the first page came (after start and parameters). */
let initial: Uint8Array | undefined;

function restore(): void {
  if (!memory) return;
  const heap = new Uint8Array(memory.buffer);
  if (!initial) {
    initial = heap.slice();
    return;
  }
  heap.set(initial);
  // what the engine grew into since: zeros, as a fresh engine would find it
  heap.fill(0, initial.length);
}

const require = createRequire(import.meta.url);
const worker = require('tesseract.js/src/worker-script') as WorkerScript;
const getCore = require('tesseract.js/src/worker-script/node/getCore') as unknown;
const gunzip = require('tesseract.js/src/worker-script/node/gunzip') as unknown;

port.on('message', (packet: Packet) => {
  if (packet.action === 'recognize') restore();
  worker.dispatchHandlers(packet, (message) => port.postMessage(message));
});

worker.setAdapter({
  getCore,
  gunzip,
  fetch: () => Promise.reject(new Error('the OCR engine downloads nothing')),
  // tesseract.js reads a local model through its cache reader
  readCache: (file: string) => readFile(file),
  writeCache: () => Promise.resolve(),
  deleteCache: () => Promise.resolve(),
  checkCache: () => Promise.resolve(false),
});
