/** A thread of `edm build`: reads one range of the roster's lines (edm/edm.ts buildChunk). */
import { parentPort, workerData } from 'node:worker_threads';
import { buildChunk, type ChunkJob } from './edm.js';

const result = await buildChunk(workerData as ChunkJob);
const transfer = Object.values(result.lists).map((t) => t.buffer as ArrayBuffer);
parentPort?.postMessage(result, transfer);
