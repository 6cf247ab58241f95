/**
 * Preloaded into the server child (`--import`): answers `{type:"memory"}` over the IPC channel with
 * process.memoryUsage() taken after a full GC, so the fuzzer and the churn check can watch the server's own memory
 * without any code in server/. Inert when the process has no IPC channel.
 */
import { readFileSync } from 'node:fs';
import { getHeapStatistics } from 'node:v8';

export interface MemoryReply {
  type: 'memory';
  id: number;
  /** Whether a GC ran first (the child needs --expose-gc). */
  collected: boolean;
  rssBytes: number;
  heapUsedBytes: number;
  heapTotalBytes: number;
  externalBytes: number;
  arrayBuffersBytes: number;
  /** V8 malloced memory (outside the JS heap, inside V8). */
  mallocedBytes: number;
  /** Physical memory of the V8 heap (what of heapTotal is resident). */
  v8PhysicalBytes: number;
  /** From /proc/self/status (Linux; 0 elsewhere): anonymous vs file-backed resident memory. */
  rssAnonBytes: number;
  rssFileBytes: number;
}

function procStatusKb(field: string): number {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync('/proc/self/status', 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

interface MemoryRequest {
  type?: unknown;
  id?: unknown;
  gc?: unknown;
}

const gc = (globalThis as { gc?: () => void }).gc;

if (process.send) {
  process.on('message', (raw: unknown) => {
    const msg = raw as MemoryRequest | null;
    if (msg?.type !== 'memory' || typeof msg.id !== 'number') return;
    const collect = msg.gc === true && gc !== undefined;
    // Several passes: weak callbacks and finalizers (Buffers, ORT tensors) free their memory on a later cycle.
    if (collect) for (let i = 0; i < 4; i++) gc();
    const usage = process.memoryUsage();
    const reply: MemoryReply = {
      type: 'memory',
      id: msg.id,
      collected: collect,
      rssBytes: usage.rss,
      heapUsedBytes: usage.heapUsed,
      heapTotalBytes: usage.heapTotal,
      externalBytes: usage.external,
      arrayBuffersBytes: usage.arrayBuffers,
      mallocedBytes: getHeapStatistics().malloced_memory,
      v8PhysicalBytes: getHeapStatistics().total_physical_size,
      rssAnonBytes: procStatusKb('RssAnon') * 1024,
      rssFileBytes: procStatusKb('RssFile') * 1024,
    };
    process.send?.(reply);
  });
  // The channel must not keep a server alive that would otherwise exit.
  process.channel?.unref();
}
