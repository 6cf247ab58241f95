/**
 * A WebSocket proxy for tests that injects faults into the server → client direction: drop the k-th binary frame
 * of a connection, or hold it back for some milliseconds. A held frame delays everything behind it (as a TCP
 * stall would), so order is preserved and only timing changes. Client → server traffic passes untouched.
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import { decodeAudioFrameHeader, type AudioFrameHeader } from '../../server/protocol/audio-frame-codec.ts';

export type Fault =
  | { connection: number; binaryFrame: number; action: 'drop' }
  | { connection: number; binaryFrame: number; action: 'delay'; delayMs: number };

export interface FaultProxy {
  /** ws://127.0.0.1:PORT — append the upstream path (e.g. /v1/stream). */
  readonly baseUrl: string;
  /** Headers of the frames the proxy dropped / held back, in order. */
  readonly injected: { dropped: AudioFrameHeader[]; delayed: AudioFrameHeader[] };
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
  const injected: FaultProxy['injected'] = { dropped: [], delayed: [] };
  let connections = 0;
  const sockets = new Set<WebSocket>();

  wss.on('connection', (client, req) => {
    const connection = connections++;
    const myFaults = faults.filter((f) => f.connection === connection);
    const upstream = new WebSocket(upstreamBaseUrl + (req.url ?? '/'), { perMessageDeflate: false });
    sockets.add(client);
    sockets.add(upstream);
    const pendingUp: Outgoing[] = [];
    client.on('message', (data, isBinary) => {
      if (upstream.readyState === WebSocket.OPEN) upstream.send(data, { binary: isBinary });
      else pendingUp.push({ data, isBinary });
    });
    upstream.on('open', () => {
      for (const m of pendingUp.splice(0)) upstream.send(m.data, { binary: m.isBinary });
    });

    // server → client, through a queue that a held frame blocks
    const queue: Outgoing[] = [];
    let heldUntilMs = 0;
    let binaryIndex = 0;
    let pendingClose: { code: number; reason: Buffer } | null = null;
    const pump = (): void => {
      while (queue.length > 0 && Date.now() >= heldUntilMs) {
        const m = queue.shift()!;
        if (client.readyState === WebSocket.OPEN) client.send(m.data, { binary: m.isBinary });
      }
      if (queue.length === 0 && pendingClose && client.readyState === WebSocket.OPEN) {
        client.close(closeCodeToForward(pendingClose.code), pendingClose.reason);
      }
    };
    upstream.on('message', (data, isBinary) => {
      if (isBinary) {
        const index = binaryIndex++;
        const fault = myFaults.find((f) => f.binaryFrame === index);
        const header = (): AudioFrameHeader => decodeAudioFrameHeader(Array.isArray(data) ? Buffer.concat(data) : new Uint8Array(data as ArrayBuffer | Buffer));
        if (fault?.action === 'drop') {
          injected.dropped.push(header());
          return;
        }
        if (fault?.action === 'delay') {
          injected.delayed.push(header());
          heldUntilMs = Date.now() + fault.delayMs;
          queue.push({ data, isBinary });
          setTimeout(pump, fault.delayMs);
          return;
        }
      }
      queue.push({ data, isBinary });
      pump();
    });
    upstream.on('close', (code, reason) => {
      pendingClose = { code, reason };
      pump();
    });
    client.on('close', (code, reason) => {
      if (upstream.readyState === WebSocket.OPEN) upstream.close(closeCodeToForward(code), reason);
      else if (upstream.readyState === WebSocket.CONNECTING) upstream.terminate();
    });
    upstream.on('error', () => client.terminate());
    client.on('error', () => upstream.terminate());
  });

  const { port } = wss.address() as AddressInfo;
  return {
    baseUrl: `ws://127.0.0.1:${port}`,
    injected,
    close: async () => {
      for (const s of sockets) s.terminate();
      await new Promise<void>((resolve, reject) => wss.close((err) => (err ? reject(err) : resolve())));
    },
  };
}
