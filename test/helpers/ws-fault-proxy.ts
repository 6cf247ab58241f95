/**
 * A WebSocket proxy for tests that injects faults into the server → client direction: drop the k-th binary frame
 * of a connection, or hold it back for some milliseconds. A held frame delays everything behind it (as a TCP
 * stall would), so order is preserved and only timing changes. Client → server traffic passes untouched.
 *
 * Connection faults, for resume tests: `cut` at the k-th binary frame terminates both sides (a network drop: the
 * client sees 1006, the server loses its socket), optionally after a silent spell in which everything either way is
 * lost (a partition before anyone notices, so the client's latest input never reaches the server); `refuse`
 * terminates a connection as it arrives; `hold-upstream` opens the server side only after a delay (a resume that
 * reaches the server late). `cut()` drops live connections on demand.
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import { decodeAudioFrameHeader, type AudioFrameHeader } from '../../client-sdk/src/protocol/index.ts';

export type Fault =
  | { connection: number; binaryFrame: number; action: 'drop' }
  | { connection: number; binaryFrame: number; action: 'delay'; delayMs: number }
  /** From the k-th frame on nothing passes either way; both sides are terminated `silentMs` later (default 0). */
  | { connection: number; binaryFrame: number; action: 'cut'; silentMs?: number }
  | { connection: number; action: 'refuse' }
  | { connection: number; action: 'hold-upstream'; delayMs: number };

export interface FaultProxy {
  /** ws://127.0.0.1:PORT — append the upstream path (e.g. /v1/stream). */
  readonly baseUrl: string;
  /** Headers of the frames the proxy dropped / held back, in order. */
  readonly injected: { dropped: AudioFrameHeader[]; delayed: AudioFrameHeader[]; cut: number[]; refused: number[] };
  /** Connections accepted so far (refused ones included). */
  readonly connections: number;
  /** Drops every live connection (or only `connection`): silent at once, both sides terminated `silentMs` later. */
  cut(connection?: number, silentMs?: number): void;
  close(): Promise<void>;
}

type Outgoing = { data: WebSocket.RawData; isBinary: boolean };

function closeCodeToForward(code: number): number {
  // 1005 (no status) and 1006 (abnormal) are reserved: they cannot be sent in a close frame
  return code === 1005 || code === 1006 ? 1011 : code;
}

export async function startFaultProxy(upstreamBaseUrl: string, faults: Fault[]): Promise<FaultProxy> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
  await once(wss, 'listening');
  const injected: FaultProxy['injected'] = { dropped: [], delayed: [], cut: [], refused: [] };
  let connections = 0;
  const sockets = new Set<WebSocket>();
  const cutters = new Map<number, (silentMs: number) => void>();

  wss.on('connection', (client, req) => {
    const connection = connections++;
    const myFaults = faults.filter((f) => f.connection === connection);
    sockets.add(client);
    if (myFaults.some((f) => f.action === 'refuse')) {
      injected.refused.push(connection);
      client.terminate();
      return;
    }
    const pendingUp: Outgoing[] = [];
    let upstream: WebSocket | undefined;

    // server → client, through a queue that a held frame blocks
    const queue: Outgoing[] = [];
    let heldUntilMs = 0;
    let binaryIndex = 0;
    let pendingClose: { code: number; reason: Buffer } | null = null;
    let isCut = false;
    let silent = false;
    const pump = (): void => {
      while (queue.length > 0 && Date.now() >= heldUntilMs) {
        const m = queue.shift()!;
        if (client.readyState === WebSocket.OPEN) client.send(m.data, { binary: m.isBinary });
      }
      if (queue.length === 0 && pendingClose && client.readyState === WebSocket.OPEN) {
        client.close(closeCodeToForward(pendingClose.code), pendingClose.reason);
      }
    };
    // A timer can fire a millisecond before Date.now() reaches the release time; re-arm rather than strand the queue
    // (with nothing else arriving, nobody would pump it again).
    const pumpWhenReleased = (): void => {
      const waitMs = heldUntilMs - Date.now();
      if (waitMs > 0) setTimeout(pumpWhenReleased, waitMs);
      else pump();
    };
    const cut = (): void => {
      if (isCut) return;
      isCut = true;
      injected.cut.push(connection);
      queue.length = 0;
      pendingUp.length = 0;
      client.terminate();
      upstream?.terminate();
      cutters.delete(connection);
    };
    const goSilent = (silentMs: number): void => {
      if (silent) return;
      silent = true;
      queue.length = 0;
      if (silentMs > 0) setTimeout(cut, silentMs);
      else cut();
    };
    cutters.set(connection, goSilent);

    const onUpstreamMessage = (data: WebSocket.RawData, isBinary: boolean): void => {
      if (isCut || silent) return;
      if (isBinary) {
        const index = binaryIndex++;
        const fault = myFaults.find((f) => 'binaryFrame' in f && f.binaryFrame === index);
        if (fault?.action === 'cut') {
          goSilent(fault.silentMs ?? 0);
          return;
        }
        const header = (): AudioFrameHeader => decodeAudioFrameHeader(Array.isArray(data) ? Buffer.concat(data) : new Uint8Array(data as ArrayBuffer | Buffer));
        if (fault?.action === 'drop') {
          injected.dropped.push(header());
          return;
        }
        if (fault?.action === 'delay') {
          injected.delayed.push(header());
          heldUntilMs = Date.now() + fault.delayMs;
          queue.push({ data, isBinary });
          setTimeout(pumpWhenReleased, fault.delayMs);
          return;
        }
      }
      queue.push({ data, isBinary });
      pump();
    };
    const openUpstream = (): void => {
      if (isCut || client.readyState !== WebSocket.OPEN) return;
      const up = new WebSocket(upstreamBaseUrl + (req.url ?? '/'), { perMessageDeflate: false });
      upstream = up;
      sockets.add(up);
      up.on('open', () => {
        for (const m of pendingUp.splice(0)) up.send(m.data, { binary: m.isBinary });
      });
      up.on('message', onUpstreamMessage);
      up.on('close', (code, reason) => {
        pendingClose = { code, reason };
        pump();
      });
      up.on('error', () => client.terminate());
    };
    const hold = myFaults.find((f) => f.action === 'hold-upstream');
    if (hold?.action === 'hold-upstream') setTimeout(openUpstream, hold.delayMs);
    else openUpstream();

    client.on('message', (data, isBinary) => {
      if (silent) return;
      if (upstream?.readyState === WebSocket.OPEN) upstream.send(data, { binary: isBinary });
      else if (!isCut) pendingUp.push({ data, isBinary });
    });
    client.on('close', (code, reason) => {
      cutters.delete(connection);
      if (upstream?.readyState === WebSocket.OPEN) upstream.close(closeCodeToForward(code), reason);
      else if (upstream?.readyState === WebSocket.CONNECTING) upstream.terminate();
    });
    client.on('error', () => upstream?.terminate());
  });

  const { port } = wss.address() as AddressInfo;
  return {
    baseUrl: `ws://127.0.0.1:${port}`,
    injected,
    get connections() {
      return connections;
    },
    cut: (connection, silentMs = 0) => {
      for (const [c, goSilent] of [...cutters]) if (connection === undefined || c === connection) goSilent(silentMs);
    },
    close: async () => {
      for (const s of sockets) s.terminate();
      await new Promise<void>((resolve, reject) => wss.close((err) => (err ? reject(err) : resolve())));
    },
  };
}
