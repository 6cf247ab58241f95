/**
 * The slice of the WebSocket API the SDK uses, satisfied by browsers' native WebSocket and by `ws` in Node.
 * Node 20 has no global WebSocket, so there the `ws` package is loaded on demand (an optional peer dependency);
 * browsers never evaluate that import.
 */
export interface SocketLike {
  binaryType: string;
  readonly readyState: number;
  readonly bufferedAmount: number;
  send(data: string | Uint8Array): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
}

export const SOCKET_OPEN = 1;

export type SocketFactory = (url: string, headers: Record<string, string>) => Promise<SocketLike>;

interface NativeSocketCtor {
  new (url: string): unknown;
}

interface WsModule {
  WebSocket: new (url: string, options: { headers: Record<string, string> }) => unknown;
}

/**
 * In browsers the native WebSocket, which cannot send headers: a bearer credential then travels as `?token=` (the
 * server accepts only minted tokens there, never the API key). In Node the `ws` package, with the credential in the
 * `Authorization` header, so a key never ends up in a URL.
 */
export const defaultSocketFactory: SocketFactory = async (url, headers) => {
  const native = (globalThis as { WebSocket?: NativeSocketCtor }).WebSocket;
  const isNode = typeof (globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node === 'string';
  if (native !== undefined && !isNode) return new native(withQueryToken(url, headers)) as SocketLike;
  const wsModuleName = 'ws';
  const mod = (await import(/* @vite-ignore */ wsModuleName)) as WsModule;
  return new mod.WebSocket(url, { headers }) as SocketLike;
};

function withQueryToken(url: string, headers: Record<string, string>): string {
  const bearer = /^Bearer\s+(\S+)$/i.exec(headers['authorization'] ?? '')?.[1];
  if (bearer === undefined) return url;
  const u = new URL(url);
  u.searchParams.set('token', bearer);
  return u.toString();
}

/** Normalises `data` of a message event (ArrayBuffer in browsers, Buffer/ArrayBuffer in ws) to a Uint8Array. */
export function messageBytes(data: unknown): Uint8Array | undefined {
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return undefined;
}
