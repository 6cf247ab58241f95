/**
 * Runs track jobs in child processes (one per worker, each with its own SoundFont and scratch files) and reports
 * each finished track. Children are forked with the parent's exec arguments, so the tsx loader carries over.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { TrackJob, TrackSummary } from './generate-track.ts';

export type WorkerReply = { type: 'done'; summary: TrackSummary } | { type: 'error'; name: string; message: string };
export type WorkerRequest = { type: 'job'; job: TrackJob };

const WORKER_ENTRY = fileURLToPath(new URL('./worker-main.ts', import.meta.url));

export class WorkerFailedError extends Error {
  override readonly name = 'WorkerFailedError';
}

/** Runs every job on `workerCount` children; resolves when all are done, rejects on the first failure. */
export function runJobsInWorkers(jobs: readonly TrackJob[], workerCount: number, onDone: (s: TrackSummary) => void): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const queue = [...jobs];
    const children: ChildProcess[] = [];
    let running = 0;
    let failed = false;
    const fail = (err: Error): void => {
      if (failed) return;
      failed = true;
      for (const c of children) c.kill('SIGTERM');
      reject(err);
    };
    const feed = (child: ChildProcess): void => {
      const job = queue.shift();
      if (job === undefined) {
        child.disconnect();
        return;
      }
      const request: WorkerRequest = { type: 'job', job };
      child.send(request);
    };
    const count = Math.max(1, Math.min(workerCount, jobs.length));
    for (let w = 0; w < count; w++) {
      const child = fork(WORKER_ENTRY, [], { execArgv: process.execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      children.push(child);
      running++;
      child.on('message', (msg: WorkerReply) => {
        if (msg.type === 'done') {
          onDone(msg.summary);
          feed(child);
        } else {
          fail(new WorkerFailedError(`track ${msg.name}: ${msg.message}`));
        }
      });
      child.on('exit', (code) => {
        running--;
        if (code !== 0 && !failed) fail(new WorkerFailedError(`worker exited with code ${code}`));
        else if (running === 0 && !failed) resolve();
      });
      feed(child);
    }
  });
}
