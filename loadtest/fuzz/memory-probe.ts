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
  /** Resident part of the brk heap ([heap] in smaps: glibc's main malloc arena). */
  rssBrkHeapBytes: number;
  /** The largest anonymous mappings by resident size: where native memory lives (V8 pages, malloc arenas, ORT). */
  topAnonMappings: Array<{ sizeKb: number; rssKb: number }>;
}

function topAnon(n: number): Array<{ sizeKb: number; rssKb: number }> {
  try {
    const maps: Array<{ sizeKb: number; rssKb: number }> = [];
    let current: { sizeKb: number; rssKb: number } | undefined;
    for (const line of readFileSync('/proc/self/smaps', 'utf8').split('\n')) {
      const head = /^([0-9a-f]+)-([0-9a-f]+) \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
      if (head) {
        current = head[3] === '' ? { sizeKb: (parseInt(head[2]!, 16) - parseInt(head[1]!, 16)) / 1024, rssKb: 0 } : undefined;
        if (current) maps.push(current);
      } else if (current && line.startsWith('Rss:')) current.rssKb = Number(/(\d+)/.exec(line)?.[1] ?? 0);
    }
    return maps.sort((a, b) => b.rssKb - a.rssKb).slice(0, n);
  } catch {
    return [];
  }
}

/** Resident bytes of the [heap] mapping (0 when /proc is not there). */
function brkHeapRss(): number {
  try {
    let inHeap = false;
    let kb = 0;
    for (const line of readFileSync('/proc/self/smaps', 'utf8').split('\n')) {
      if (/^[0-9a-f]+-[0-9a-f]+ /.test(line)) inHeap = line.endsWith('[heap]');
      else if (inHeap && line.startsWith('Rss:')) kb += Number(/(\d+)/.exec(line)?.[1] ?? 0);
    }
    return kb * 1024;
  } catch {
    return 0;
  }
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
      rssBrkHeapBytes: brkHeapRss(),
      topAnonMappings: topAnon(12),
    };
    process.send?.(reply);
  });
  // The channel must not keep a server alive that would otherwise exit.
  process.channel?.unref();
}
