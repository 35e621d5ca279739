// A worker thread of loadRegistrations(): loads its share of the files and posts the results back.
import { parentPort, workerData } from 'node:worker_threads';
import { loadFilesHere, type WorkerInput } from './load.js';

const input = workerData as WorkerInput;
parentPort?.postMessage(await loadFilesHere(input.dir, input.rels, input.options));
