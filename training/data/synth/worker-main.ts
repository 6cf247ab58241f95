/** Child-process entry: generates the tracks its parent sends, one at a time, and reports back. */
import { generateTrack } from './generate-track.ts';
import type { WorkerReply, WorkerRequest } from './workers.ts';

function reply(msg: WorkerReply): void {
  process.send?.(msg);
}

process.on('message', (msg: WorkerRequest) => {
  generateTrack(msg.job).then(
    (summary) => reply({ type: 'done', summary }),
    (err: unknown) => reply({ type: 'error', name: msg.job.name, message: err instanceof Error ? err.message : String(err) }),
  );
});
