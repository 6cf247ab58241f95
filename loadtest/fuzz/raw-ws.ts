/**
 * A WebSocket client written on a bare TCP socket, for the fuzzer only: it must be able to send what a correct
 * client never would (truncated frames, unmasked or reserved-bit frames, a header announcing 2^62 bytes), stop
 * reading while it keeps sending, and cut the connection mid-frame. The `ws` package refuses all of that. It also
 * records exactly what the server did: HTTP status of a refused upgrade, every text message, every binary frame,
 * the close frame (code, reason) or a bare TCP close/reset.
 */
import { connect, type Socket } from 'node:net';

/** Connections opened by this process (reported as the run's connection count). */
export const connectionCounter = { count: 0 };

export const OP = { continuation: 0x0, text: 0x1, binary: 0x2, close: 0x8, ping: 0x9, pong: 0xa } as const;

export interface FrameOptions {
  fin?: boolean;
  /** RSV1-3 bits (0..7); a server without extensions must refuse non-zero. */
  rsv?: number;
  /** false sends an unmasked client frame (a protocol violation). */
  mask?: boolean;
  /** Announced payload length when it should differ from the real one (lying headers). */
  declaredLength?: number;
}

/**
 * One frame. The mask key is zero (XOR with 0 is the identity): masking is mandatory, its randomness is not
 * something the server checks, and a zero key keeps reproductions byte-for-byte readable and 1 MB frames cheap.
 */
export function encodeFrame(opcode: number, payload: Uint8Array, options: FrameOptions = {}): Buffer {
  const fin = options.fin ?? true;
  const mask = options.mask ?? true;
  const length = options.declaredLength ?? payload.byteLength;
  const extBytes = length < 126 ? 0 : length < 65536 ? 2 : 8;
  const header = Buffer.alloc(2 + extBytes + (mask ? 4 : 0));
  header[0] = (fin ? 0x80 : 0) | (((options.rsv ?? 0) & 7) << 4) | (opcode & 0x0f);
  const lenField = extBytes === 0 ? length : extBytes === 2 ? 126 : 127;
  header[1] = (mask ? 0x80 : 0) | lenField;
  if (extBytes === 2) header.writeUInt16BE(length, 2);
  else if (extBytes === 8) header.writeBigUInt64BE(BigInt(length), 2);
  return Buffer.concat([header, payload]);
}

export function textFrame(text: string): Buffer {
  return encodeFrame(OP.text, Buffer.from(text, 'utf8'));
}

export function closeFrame(code: number, reason = ''): Buffer {
  const payload = Buffer.alloc(2 + Buffer.byteLength(reason));
  payload.writeUInt16BE(code, 0);
  payload.write(reason, 2);
  return encodeFrame(OP.close, payload);
}

export interface ServerText {
  type: string;
  raw: Record<string, unknown>;
}

export interface ServerBinary {
  bytes: Buffer;
}

/** What one connection saw. */
export interface WsObservation {
  /** HTTP status of the upgrade answer (101 when it upgraded); 0 when none came. */
  status: number;
  texts: ServerText[];
  binaries: ServerBinary[];
  /** Close frame from the server: code (1005 when it had no payload). */
  closeCode: number | undefined;
  closeReason: string;
  /** The TCP connection ended (with or without a close frame). */
  ended: boolean;
  /** Socket error code (ECONNRESET, EPIPE, ECONNREFUSED, …). */
  socketError: string | undefined;
  /** The server sent something that is not valid WebSocket / JSON (a server bug). */
  malformed: string | undefined;
}

export class RawWs {
  readonly obs: WsObservation = {
    status: 0,
    texts: [],
    binaries: [],
    closeCode: undefined,
    closeReason: '',
    ended: false,
    socketError: undefined,
    malformed: undefined,
  };
  readonly socket: Socket;
  /** Bytes we handed to the socket that it has not written yet. */
  get pendingWriteBytes(): number {
    return this.socket.writableLength;
  }
  private buf: Buffer = Buffer.alloc(0);
  private upgraded = false;
  private fragments: Buffer[] = [];
  private fragmentOpcode = 0;
  private waiters: Array<() => void> = [];
  private readonly connected: Promise<void>;

  constructor(port: number, host = '127.0.0.1') {
    connectionCounter.count++;
    this.socket = connect({ port, host, noDelay: true });
    this.connected = new Promise((resolve) => {
      this.socket.once('connect', () => resolve());
      this.socket.once('close', () => resolve());
    });
    this.socket.on('data', (chunk: Buffer) => this.onData(chunk));
    this.socket.on('error', (err: Error & { code?: string }) => {
      this.obs.socketError ??= err.code ?? err.message;
      this.notify();
    });
    this.socket.on('close', () => {
      this.obs.ended = true;
      this.notify();
    });
  }

  /** Sends the upgrade request (as given, possibly hostile) once connected. */
  async handshake(requestHead: string): Promise<void> {
    await this.connected;
    this.write(Buffer.from(requestHead, 'latin1'));
  }

  write(bytes: Uint8Array): void {
    if (this.socket.destroyed || this.socket.writableEnded) return;
    this.socket.write(bytes);
  }

  pauseReading(): void {
    this.socket.pause();
  }

  resumeReading(): void {
    this.socket.resume();
  }

  /** Cuts the connection: RST when `reset`, else a FIN without a close frame. */
  abort(reset = true): void {
    if (reset) this.socket.resetAndDestroy();
    else this.socket.end();
  }

  get isOpen(): boolean {
    return !this.obs.ended && this.obs.closeCode === undefined && this.obs.socketError === undefined;
  }

  /** Resolves when `predicate` holds or the connection ended; false on timeout. */
  async until(predicate: () => boolean, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate()) {
      if (this.obs.ended) return predicate();
      const left = deadline - Date.now();
      if (left <= 0) return false;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 500));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return true;
  }

  /** Waits for the TCP connection to end; false on timeout. */
  waitEnd(timeoutMs: number): Promise<boolean> {
    return this.until(() => this.obs.ended, timeoutMs);
  }

  destroy(): void {
    this.socket.destroy();
  }

  private notify(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  private onData(chunk: Buffer): void {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    if (!this.upgraded) {
      const end = this.buf.indexOf('\r\n\r\n');
      if (end < 0) {
        if (this.buf.length > 64 * 1024) this.obs.malformed ??= 'HTTP response head over 64 KiB';
        return;
      }
      const head = this.buf.subarray(0, end).toString('latin1');
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(head);
      this.obs.status = m ? Number(m[1]) : -1;
      this.buf = this.buf.subarray(end + 4);
      if (this.obs.status !== 101) {
        this.notify();
        return; // the body of a refusal is not interesting; the status is
      }
      this.upgraded = true;
    }
    this.parseFrames();
    this.notify();
  }

  private parseFrames(): void {
    for (;;) {
      if (this.buf.length < 2) return;
      const b0 = this.buf[0]!;
      const b1 = this.buf[1]!;
      let length = b1 & 0x7f;
      let offset = 2;
      if (length === 126) {
        if (this.buf.length < 4) return;
        length = this.buf.readUInt16BE(2);
        offset = 4;
      } else if (length === 127) {
        if (this.buf.length < 10) return;
        length = Number(this.buf.readBigUInt64BE(2));
        offset = 10;
      }
      if (b1 & 0x80) this.obs.malformed ??= 'server frame is masked';
      if (this.buf.length < offset + length) return;
      const payload = this.buf.subarray(offset, offset + length);
      this.buf = this.buf.subarray(offset + length);
      this.onFrame(b0 & 0x0f, (b0 & 0x80) !== 0, payload);
    }
  }

  private onFrame(opcode: number, fin: boolean, payload: Buffer): void {
    if (opcode === OP.ping) {
      this.write(encodeFrame(OP.pong, payload));
      return;
    }
    if (opcode === OP.pong) return;
    if (opcode === OP.close) {
      this.obs.closeCode = payload.length >= 2 ? payload.readUInt16BE(0) : 1005;
      this.obs.closeReason = payload.subarray(2).toString('utf8');
      // Echo the close (completing the handshake) and let the server end TCP.
      this.write(encodeFrame(OP.close, payload.subarray(0, 2)));
      return;
    }
    if (opcode !== OP.continuation) {
      this.fragmentOpcode = opcode;
      this.fragments = [];
    }
    this.fragments.push(Buffer.from(payload));
    if (!fin) return;
    const message = this.fragments.length === 1 ? this.fragments[0]! : Buffer.concat(this.fragments);
    this.fragments = [];
    if (this.fragmentOpcode === OP.binary) {
      this.obs.binaries.push({ bytes: message });
      return;
    }
    if (this.fragmentOpcode !== OP.text) {
      this.obs.malformed ??= `server frame with opcode ${this.fragmentOpcode}`;
      return;
    }
    try {
      const raw = JSON.parse(message.toString('utf8')) as Record<string, unknown>;
      this.obs.texts.push({ type: typeof raw['type'] === 'string' ? (raw['type'] as string) : '?', raw });
    } catch {
      this.obs.malformed ??= `server text is not JSON: ${message.subarray(0, 80).toString('utf8')}`;
    }
  }
}

/** The upgrade request head for `path` with extra header lines (already "Name: value"). */
export function upgradeHead(path: string, headerLines: readonly string[], key = 'dGhlIHNhbXBsZSBub25jZQ=='): string {
  return [
    `GET ${path} HTTP/1.1`,
    'Host: 127.0.0.1',
    'Upgrade: websocket',
    'Connection: Upgrade',
    `Sec-WebSocket-Key: ${key}`,
    'Sec-WebSocket-Version: 13',
    ...headerLines,
    '',
    '',
  ].join('\r\n');
}
