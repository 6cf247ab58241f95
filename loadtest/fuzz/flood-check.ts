/**
 * The never-reading control flood, measured where it hurts: a client starts a session, stops reading, and sends tens
 * of thousands of `stats` requests (the largest reply). The kernel's socket buffers hide the first MBs of replies,
 * so looking at the client side cannot tell whether the server bounds what it queues; the server's own memory can.
 * Run alone (no other cases in flight) between a forced-GC sample before and one after, the growth of live memory —
 * heapUsed (queued reply strings: net.Socket keeps strings as strings) + external (queued Buffers) — must stay
 * within the send-buffer limit plus slack. RSS is reported but not judged (allocator high-water).
 */
import { textFrame, upgradeHead, RawWs } from './raw-ws.ts';
import type { ServerProcess } from './server-process.ts';

export interface FloodCheckResult {
  requests: number;
  /** Reply bytes the server would have queued had it answered every request. */
  replyBytesIfAllAnswered: number;
  /** heapUsed + external after minus before, both after a forced GC. */
  liveGrowthBytes: number;
  rssGrowthBytes: number;
  /** What the server did: an error code, or that it stopped reading (our writes backed up), or nothing. */
  serverReaction: string;
  ok: boolean;
  problem: string | undefined;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
/** Kernel buffers and one reply of slack on top of the configured limit. */
const SLACK_BYTES = 2 * 1024 * 1024;

export async function floodCheck(server: ServerProcess, headers: string[], maxSendBufferBytes: number, requests = 100_000): Promise<FloodCheckResult> {
  const before = await server.memory();
  const ws = new RawWs(server.port);
  await ws.handshake(upgradeHead('/v1/stream', headers));
  await ws.until(() => ws.obs.status !== 0, 10_000);
  ws.write(textFrame(JSON.stringify({ type: 'start', sampleRateHz: 16000, channels: 1, format: 's16le' })));
  await ws.until(() => ws.obs.texts.some((m) => m.type === 'ready' || m.type === 'error'), 10_000);
  ws.pauseReading();
  // 64-character ids: the longest every protocol version accepts, so every request is valid
  const frames: Buffer[] = [];
  for (let i = 0; i < requests; i++) frames.push(textFrame(JSON.stringify({ type: 'stats', id: `flood-${String(i).padStart(8, '0')}-${'x'.repeat(43)}` })));
  for (let i = 0; i < frames.length; i += 1000) {
    ws.write(Buffer.concat(frames.slice(i, i + 1000)));
    await sleep(5);
  }
  await sleep(1500); // let the server read (or not) what it is going to read
  const after = await server.memory();
  const backedUp = ws.pendingWriteBytes;
  ws.destroy();
  const liveGrowthBytes = after.externalBytes + after.heapUsedBytes - (before.externalBytes + before.heapUsedBytes);
  const limit = maxSendBufferBytes + SLACK_BYTES;
  const ok = liveGrowthBytes <= limit;
  return {
    requests,
    replyBytesIfAllAnswered: requests * 450,
    liveGrowthBytes,
    rssGrowthBytes: after.rssBytes - before.rssBytes,
    serverReaction: backedUp > 0 ? `stopped reading (${backedUp} request bytes still unsent)` : 'read everything',
    ok,
    problem: ok ? undefined : `server holds ${(liveGrowthBytes / 1048576).toFixed(1)} MB more (heap + external) for a client that reads nothing (send-buffer limit ${(maxSendBufferBytes / 1048576).toFixed(2)} MB)`,
  };
}
