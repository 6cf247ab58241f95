// client-sdk/src/protocol/constants.ts
var PROTOCOL_VERSION = 1;
var SUPPORTED_SAMPLE_RATES_HZ = [8e3, 11025, 12e3, 16e3, 22050, 24e3, 32e3, 44100, 48e3];
var SAMPLE_FORMATS = ["s16le", "f32le"];
var OUTPUT_KINDS = ["vocals", "accompaniment", "karaoke"];

// client-sdk/src/protocol/error-catalog.ts
var ERROR_CATALOG = {
  LIVESTEM_ERR_BAD_MESSAGE: {
    message: "message is not valid for this protocol or for the session state",
    closeCode: 4400,
    httpStatus: 400,
    retryable: false
  },
  LIVESTEM_ERR_PROTOCOL_VERSION: {
    message: "unsupported protocol version",
    closeCode: 4400,
    httpStatus: 400,
    retryable: false
  },
  LIVESTEM_ERR_MISALIGNED_FRAME: {
    message: "binary frame length is not a whole number of sample frames (bytes per sample \xD7 channels)",
    closeCode: 4400,
    httpStatus: 400,
    retryable: false
  },
  LIVESTEM_ERR_UNAUTHORIZED: {
    message: "missing, invalid, expired or already used credentials",
    closeCode: 4401,
    httpStatus: 401,
    retryable: false
  },
  LIVESTEM_ERR_ORIGIN_NOT_ALLOWED: {
    message: "request Origin is not in the allow-list",
    closeCode: 4403,
    httpStatus: 403,
    retryable: false
  },
  LIVESTEM_ERR_UNKNOWN_MODEL: {
    message: "no model with this name is loaded",
    closeCode: 4404,
    httpStatus: 404,
    retryable: false
  },
  LIVESTEM_ERR_NOT_FOUND: {
    message: "no such route",
    closeCode: 4404,
    httpStatus: 404,
    retryable: false
  },
  LIVESTEM_ERR_IDLE_TIMEOUT: {
    message: "no message received within the idle timeout",
    closeCode: 4408,
    httpStatus: 408,
    retryable: true
  },
  LIVESTEM_ERR_SLOW_CONSUMER: {
    message: "client does not read output fast enough (send buffer over its limit)",
    closeCode: 4409,
    httpStatus: 409,
    retryable: true
  },
  LIVESTEM_ERR_UNKNOWN_SESSION: {
    message: "no resumable session with this id and token (never existed, ended, or grace period over)",
    closeCode: 4410,
    httpStatus: 410,
    retryable: false
  },
  LIVESTEM_ERR_UNSUPPORTED_SAMPLE_RATE: {
    message: "unsupported sample rate",
    closeCode: 4415,
    httpStatus: 415,
    retryable: false
  },
  LIVESTEM_ERR_UNSUPPORTED_CHANNELS: {
    message: "unsupported channel count (1 or 2)",
    closeCode: 4415,
    httpStatus: 415,
    retryable: false
  },
  LIVESTEM_ERR_UNSUPPORTED_FORMAT: {
    message: "unsupported sample format (s16le or f32le)",
    closeCode: 4415,
    httpStatus: 415,
    retryable: false
  },
  LIVESTEM_ERR_RESUME_GAP: {
    message: "requested resume offset is no longer retained by the server",
    closeCode: 4416,
    httpStatus: 416,
    retryable: false
  },
  LIVESTEM_ERR_NON_FINITE_SAMPLES: {
    message: "binary frame contains NaN or infinite samples (rejected, nothing of it was processed)",
    closeCode: 4422,
    httpStatus: 422,
    retryable: false
  },
  LIVESTEM_ERR_INPUT_OVERRUN: {
    message: "client sent audio faster than real time beyond the session input buffer",
    closeCode: 4429,
    httpStatus: 429,
    retryable: true
  },
  LIVESTEM_ERR_RATE_LIMITED: {
    message: "too many messages on this connection (over the per-connection message rate limit)",
    closeCode: 4429,
    httpStatus: 429,
    retryable: true
  },
  LIVESTEM_ERR_PAYLOAD_TOO_LARGE: {
    message: "message larger than the per-message limit",
    closeCode: 1009,
    httpStatus: 413,
    retryable: false
  },
  LIVESTEM_ERR_OVERLOADED: {
    message: "server at capacity, session refused (existing sessions are not degraded); retry later or elsewhere",
    closeCode: 1013,
    httpStatus: 503,
    retryable: true
  },
  LIVESTEM_ERR_DRAINING: {
    message: "server is shutting down and admits no new sessions",
    closeCode: 1012,
    httpStatus: 503,
    retryable: true
  },
  LIVESTEM_ERR_INFERENCE_FAILED: {
    message: "model inference failed",
    closeCode: 1011,
    httpStatus: 500,
    retryable: true
  },
  LIVESTEM_ERR_INTERNAL: {
    message: "internal server error",
    closeCode: 1011,
    httpStatus: 500,
    retryable: true
  }
};
var ERROR_CODES = Object.freeze(Object.keys(ERROR_CATALOG));
function isErrorCode(value) {
  return typeof value === "string" && Object.hasOwn(ERROR_CATALOG, value);
}

// client-sdk/src/protocol/pcm-codec.ts
var LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
function bytesPerSample(format) {
  return format === "s16le" ? 2 : 4;
}
var PcmDecodeError = class extends Error {
  constructor(reason, message) {
    super(message);
    this.reason = reason;
  }
  reason;
  name = "PcmDecodeError";
};
function decodePcm(bytes, format, channels) {
  const frameBytes = bytesPerSample(format) * channels;
  if (bytes.byteLength % frameBytes !== 0) {
    throw new PcmDecodeError(
      "misaligned",
      `${bytes.byteLength} bytes is not a multiple of ${frameBytes} (${bytesPerSample(format)}-byte ${format} \xD7 ${channels} channels)`
    );
  }
  const frames = bytes.byteLength / frameBytes;
  const out = Array.from({ length: channels }, () => new Float32Array(frames));
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (format === "s16le") {
    for (let i = 0, p = 0; i < frames; i++) {
      for (let c = 0; c < channels; c++, p += 2) out[c][i] = view.getInt16(p, true) / 32768;
    }
    return out;
  }
  for (let i = 0, p = 0; i < frames; i++) {
    for (let c = 0; c < channels; c++, p += 4) {
      const v = view.getFloat32(p, true);
      if (!Number.isFinite(v)) {
        throw new PcmDecodeError("non-finite", `sample ${i} of channel ${c} is ${v}`);
      }
      out[c][i] = v;
    }
  }
  return out;
}
function encodePcm(samples, format, out) {
  const channels = samples.length;
  const frames = samples[0]?.length ?? 0;
  const bytes = out ?? new Uint8Array(frames * channels * bytesPerSample(format));
  if (bytes.byteLength !== frames * channels * bytesPerSample(format)) {
    throw new RangeError(`output buffer is ${bytes.byteLength} bytes, need ${frames * channels * bytesPerSample(format)}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (format === "s16le") {
    for (let i = 0, p = 0; i < frames; i++) {
      for (let c = 0; c < channels; c++, p += 2) {
        const v = Math.round(samples[c][i] * 32768);
        view.setInt16(p, v > 32767 ? 32767 : v < -32768 ? -32768 : v, true);
      }
    }
    return bytes;
  }
  if (LITTLE_ENDIAN_HOST) {
    const interleaved = new Float32Array(frames * channels);
    for (let c = 0; c < channels; c++) {
      const ch = samples[c];
      for (let i = 0, p = c; i < frames; i++, p += channels) interleaved[p] = ch[i];
    }
    bytes.set(new Uint8Array(interleaved.buffer));
    return bytes;
  }
  for (let i = 0, p = 0; i < frames; i++) {
    for (let c = 0; c < channels; c++, p += 4) view.setFloat32(p, samples[c][i], true);
  }
  return bytes;
}

// client-sdk/src/protocol/audio-frame-codec.ts
var FRAME_VERSION = 1;
var FRAME_HEADER_BYTES = 24;
var KINDS_BY_CODE = [void 0, "vocals", "accompaniment", "karaoke"];
var FORMATS_BY_CODE = [void 0, "s16le", "f32le"];
var FrameDecodeError = class extends Error {
  name = "FrameDecodeError";
};
function decodeAudioFrameHeader(bytes) {
  if (bytes.byteLength < FRAME_HEADER_BYTES) {
    throw new FrameDecodeError(`frame of ${bytes.byteLength} bytes is shorter than the ${FRAME_HEADER_BYTES}-byte header`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint8(0);
  if (version !== FRAME_VERSION) throw new FrameDecodeError(`unknown frame version ${version}`);
  const kind = KINDS_BY_CODE[view.getUint8(1)];
  if (kind === void 0) throw new FrameDecodeError(`unknown stream kind ${view.getUint8(1)}`);
  const format = FORMATS_BY_CODE[view.getUint8(2)];
  if (format === void 0) throw new FrameDecodeError(`unknown sample format ${view.getUint8(2)}`);
  const channels = view.getUint8(3);
  const sampleCount = view.getUint32(16, true);
  const expected = FRAME_HEADER_BYTES + sampleCount * channels * bytesPerSample(format);
  if (bytes.byteLength !== expected) {
    throw new FrameDecodeError(`frame is ${bytes.byteLength} bytes, header announces ${expected}`);
  }
  const offset = view.getBigUint64(8, true);
  if (offset > BigInt(Number.MAX_SAFE_INTEGER)) throw new FrameDecodeError("sampleOffset beyond 2^53");
  return {
    kind,
    format,
    channels,
    sequence: view.getUint32(4, true),
    sampleOffset: Number(offset),
    sampleCount,
    sampleRateHz: view.getUint32(20, true)
  };
}
function decodeAudioFrame(bytes) {
  const header = decodeAudioFrameHeader(bytes);
  try {
    const samples = decodePcm(bytes.subarray(FRAME_HEADER_BYTES), header.format, header.channels);
    return { ...header, samples };
  } catch (err) {
    if (err instanceof PcmDecodeError) throw new FrameDecodeError(`frame payload: ${err.message}`, { cause: err });
    throw err;
  }
}

// client-sdk/src/errors.ts
var SERVER_ERROR_CODES = ERROR_CODES;
var CLIENT_ERROR_CODES = [
  /** The WebSocket / HTTP connection could not be opened or dropped without an error message. */
  "LIVESTEM_CLIENT_CONNECTION_FAILED",
  /** A call was made on a session that is already closed. */
  "LIVESTEM_CLIENT_CLOSED",
  /** The server sent something this SDK cannot parse (version mismatch or bug). */
  "LIVESTEM_CLIENT_PROTOCOL",
  /** An async iterator's consumer fell behind its bounded queue. */
  "LIVESTEM_CLIENT_ITERATOR_OVERFLOW",
  /** Invalid argument to an SDK call (wrong channel count, non-finite gain…). */
  "LIVESTEM_CLIENT_BAD_ARGUMENT"
];
var RETRYABLE_CLIENT_CODES = /* @__PURE__ */ new Set(["LIVESTEM_CLIENT_CONNECTION_FAILED"]);
function isRetryableCode(code) {
  return isServerErrorCode(code) ? ERROR_CATALOG[code].retryable : RETRYABLE_CLIENT_CODES.has(code);
}
function isServerErrorCode(value) {
  return isErrorCode(value);
}
var LivestemClientError = class extends Error {
  name = "LivestemClientError";
  code;
  retryable;
  /** WebSocket close code or HTTP status that carried the error, when there was one. */
  status;
  constructor(code, message, options = {}) {
    super(message, options.cause === void 0 ? void 0 : { cause: options.cause });
    this.code = code;
    this.retryable = options.retryable ?? isRetryableCode(code);
    this.status = options.status;
  }
};

// client-sdk/src/events.ts
var DEFAULT_ITERATOR_MAX_QUEUED = 4096;
var TypedEvents = class {
  #listeners = /* @__PURE__ */ new Map();
  #ended = false;
  #enders = /* @__PURE__ */ new Set();
  on(event, listener) {
    let set = this.#listeners.get(event);
    if (set === void 0) {
      set = /* @__PURE__ */ new Set();
      this.#listeners.set(event, set);
    }
    set.add(listener);
    return () => this.off(event, listener);
  }
  once(event, listener) {
    const off = this.on(event, (value) => {
      off();
      listener(value);
    });
    return off;
  }
  off(event, listener) {
    this.#listeners.get(event)?.delete(listener);
  }
  emit(event, value) {
    const set = this.#listeners.get(event);
    if (set === void 0) return;
    for (const listener of [...set]) listener(value);
  }
  listenerCount(event) {
    return this.#listeners.get(event)?.size ?? 0;
  }
  /** Ends every open iterator (after it has yielded what it already queued). Further events are still emitted. */
  endIterators() {
    this.#ended = true;
    for (const end of [...this.#enders]) end();
  }
  /** Async iterator over one event; finishes when the source ends (session closed). */
  iterate(event, maxQueued = DEFAULT_ITERATOR_MAX_QUEUED) {
    const queue = [];
    let waiting;
    let done = this.#ended;
    let overflow;
    const cleanup = () => {
      off();
      this.#enders.delete(finish);
    };
    const finish = () => {
      done = true;
      cleanup();
      if (waiting !== void 0 && queue.length === 0) {
        waiting.resolve({ value: void 0, done: true });
        waiting = void 0;
      }
    };
    const off = this.on(event, (value) => {
      if (waiting !== void 0) {
        waiting.resolve({ value, done: false });
        waiting = void 0;
        return;
      }
      if (queue.length >= maxQueued) {
        overflow = new LivestemClientError(
          "LIVESTEM_CLIENT_ITERATOR_OVERFLOW",
          `iterator for "${String(event)}" fell ${maxQueued} items behind`
        );
        finish();
        return;
      }
      queue.push(value);
    });
    this.#enders.add(finish);
    if (done) cleanup();
    const iterator = {
      next: () => {
        if (overflow !== void 0) return Promise.reject(overflow);
        const head = queue.shift();
        if (head !== void 0) return Promise.resolve({ value: head, done: false });
        if (done) return Promise.resolve({ value: void 0, done: true });
        return new Promise((resolve, reject) => {
          waiting = { resolve, reject };
        });
      },
      return: () => {
        queue.length = 0;
        finish();
        return Promise.resolve({ value: void 0, done: true });
      },
      [Symbol.asyncIterator]() {
        return iterator;
      }
    };
    return iterator;
  }
};

// client-sdk/src/delivery.ts
var OutputDelivery = class {
  #kinds;
  #delivered = /* @__PURE__ */ new Map();
  #received = /* @__PURE__ */ new Map();
  /** Caller-timeline position after the last delivered VAD hop. */
  #vadEnd = -Infinity;
  #base = 0;
  constructor(kinds) {
    this.#kinds = [...kinds];
    for (const k of kinds) {
      this.#delivered.set(k, 0);
      this.#received.set(k, 0);
    }
  }
  /** Output offset (caller timeline) of this server session's offset 0. */
  get base() {
    return this.#base;
  }
  /** `lastSampleOffset` for a resume: complete frames of every requested kind end here (session timeline). */
  get resumeOffset() {
    return Math.min(...this.#kinds.map((k) => this.#received.get(k) ?? 0));
  }
  /** Every requested kind has been delivered up to here (caller timeline). */
  get deliveredEnd() {
    return Math.min(...this.#kinds.map((k) => this.#delivered.get(k) ?? this.#base));
  }
  /** Takes a decoded frame (session timeline); returns what is new for the caller (caller timeline), if anything. */
  frame(chunk) {
    const count = chunk.samples[0]?.length ?? 0;
    this.#received.set(chunk.kind, chunk.sampleOffset + count);
    const offset = chunk.sampleOffset + this.#base;
    const delivered = this.#delivered.get(chunk.kind) ?? offset;
    const cut = Math.max(0, delivered - offset);
    if (cut >= count && count > 0) return void 0;
    this.#delivered.set(chunk.kind, Math.max(delivered, offset + count));
    if (cut === 0) return { ...chunk, sampleOffset: offset };
    return { ...chunk, sampleOffset: offset + cut, samples: chunk.samples.map((ch) => ch.subarray(cut)) };
  }
  /** Shifts a VAD message to the caller timeline and drops hops already delivered. */
  vad(msg) {
    const start = msg.sampleOffset + this.#base;
    let first = 0;
    while (first < msg.probs.length && start + first * msg.hopSamples < this.#vadEnd - msg.hopSamples / 2) first++;
    if (first === msg.probs.length) return void 0;
    const sampleOffset = start + first * msg.hopSamples;
    this.#vadEnd = start + msg.probs.length * msg.hopSamples;
    return {
      ...msg,
      sampleOffset,
      probs: first === 0 ? msg.probs : msg.probs.slice(first),
      transitions: msg.transitions.map((t) => ({ ...t, sampleOffset: t.sampleOffset + this.#base })).filter((t) => first === 0 || t.sampleOffset >= Math.round(sampleOffset))
    };
  }
  /** `configured`: kinds added from `sampleOffset` on (session timeline) have nothing missing before it. */
  configured(outputs, sampleOffset) {
    for (const k of outputs) {
      if (this.#kinds.includes(k)) continue;
      this.#received.set(k, sampleOffset);
      this.#delivered.set(k, Math.max(this.#delivered.get(k) ?? 0, sampleOffset + this.#base));
    }
    this.#kinds = [...outputs];
  }
  /** The same session continues on a new socket; the replay starts at `fromOffset` with the current outputs. */
  resumed(outputs, fromOffset) {
    for (const k of outputs) {
      this.#received.set(k, fromOffset);
      if (!this.#delivered.has(k)) this.#delivered.set(k, fromOffset + this.#base);
    }
    this.#kinds = [...outputs];
  }
  /** A replacement session whose offset 0 is `base` on the caller timeline. */
  newSession(outputs, base) {
    this.#base = base;
    for (const k of outputs) {
      this.#received.set(k, 0);
      if (!this.#delivered.has(k)) this.#delivered.set(k, base);
    }
    this.#kinds = [...outputs];
  }
};

// client-sdk/src/socket.ts
var SOCKET_OPEN = 1;
var defaultSocketFactory = async (url, headers) => {
  const native = globalThis.WebSocket;
  const isNode = typeof globalThis.process?.versions?.node === "string";
  if (native !== void 0 && !isNode) return new native(withQueryToken(url, headers));
  const wsModuleName = "ws";
  const mod = await import(
    /* @vite-ignore */
    wsModuleName
  );
  return new mod.WebSocket(url, { headers });
};
function withQueryToken(url, headers) {
  const bearer = /^Bearer\s+(\S+)$/i.exec(headers["authorization"] ?? "")?.[1];
  if (bearer === void 0) return url;
  const u = new URL(url);
  u.searchParams.set("token", bearer);
  return u.toString();
}
function messageBytes(data) {
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return void 0;
}

// client-sdk/src/handshake.ts
function streamUrl(base) {
  const url = new URL(base);
  if (url.protocol === "http:") url.protocol = "ws:";
  if (url.protocol === "https:") url.protocol = "wss:";
  if (url.pathname === "/" || url.pathname === "") url.pathname = "/v1/stream";
  return url.toString();
}
function startMessage(p) {
  const msg = {
    type: "start",
    protocolVersion: PROTOCOL_VERSION,
    sampleRateHz: p.sampleRate,
    channels: p.channels,
    format: p.format ?? "f32le"
  };
  if (p.model !== void 0) msg.model = p.model;
  if (p.outputs !== void 0) msg.outputs = p.outputs;
  if (p.vocalGain !== void 0) msg.vocalGain = p.vocalGain;
  if (p.outputSampleRate !== void 0) msg.outputSampleRateHz = p.outputSampleRate;
  msg.outputFormat = p.outputFormat ?? "f32le";
  if (p.vad !== void 0) msg.vad = p.vad;
  if (p.streamId !== void 0) msg.streamId = p.streamId;
  return msg;
}
function errorFromMessage(msg, status) {
  if (!isServerErrorCode(msg.code)) {
    return new LivestemClientError("LIVESTEM_CLIENT_PROTOCOL", `unknown server error code ${String(msg.code)}: ${msg.message}`);
  }
  return new LivestemClientError(msg.code, msg.message, status === void 0 ? { retryable: msg.retryable } : { retryable: msg.retryable, status });
}
async function openSocket(opts) {
  const token = typeof opts.token === "function" ? await opts.token() : opts.token;
  const headers = token === void 0 ? {} : { authorization: `Bearer ${token}` };
  const socket = await (opts.socketFactory ?? defaultSocketFactory)(streamUrl(opts.url), headers);
  socket.binaryType = "arraybuffer";
  return socket;
}
function awaitAnswer(socket, first, answer, timeoutMs) {
  return new Promise((resolve, reject) => {
    let serverError;
    let accepted;
    const timer = setTimeout(() => {
      socket.onclose = null;
      socket.close(1e3, "connect timeout");
      reject(new LivestemClientError("LIVESTEM_CLIENT_CONNECTION_FAILED", `no ${answer} within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.onopen = () => socket.send(JSON.stringify(first));
    socket.onmessage = (ev) => {
      if (accepted !== void 0) {
        accepted.early.push(ev);
        return;
      }
      if (typeof ev.data !== "string") return;
      const msg = JSON.parse(ev.data);
      if (msg.type === answer) {
        clearTimeout(timer);
        accepted = { socket, answer: msg, early: [] };
        resolve(accepted);
      } else if (msg.type === "error") {
        serverError = errorFromMessage(msg);
      }
    };
    socket.onerror = () => void 0;
    socket.onclose = (ev) => {
      clearTimeout(timer);
      if (accepted !== void 0) {
        accepted.early.push({ data: closeMarker(ev.code, ev.reason) });
        return;
      }
      reject(
        serverError ?? new LivestemClientError("LIVESTEM_CLIENT_CONNECTION_FAILED", `connection closed before ${answer} (code ${ev.code}${ev.reason ? `: ${ev.reason}` : ""})`, {
          status: ev.code
        })
      );
    };
  });
}
function closeMarker(code, reason) {
  return { closeMarker: true, code, reason };
}
function isCloseMarker(data) {
  return typeof data === "object" && data !== null && data.closeMarker === true;
}
async function openStart(opts, params, timeoutMs) {
  return awaitAnswer(await openSocket(opts), startMessage(params), "ready", timeoutMs);
}
async function openResume(opts, request, timeoutMs) {
  return awaitAnswer(await openSocket(opts), { type: "resume", protocolVersion: PROTOCOL_VERSION, ...request }, "resumed", timeoutMs);
}

// client-sdk/src/outbox.ts
var BLOCK_BYTES = 64 * 1024;
var InputOutbox = class {
  constructor(frameBytes) {
    this.frameBytes = frameBytes;
  }
  frameBytes;
  #blocks = [];
  #start = 0;
  #sent = 0;
  #end = 0;
  get start() {
    return this.#start;
  }
  get sent() {
    return this.#sent;
  }
  get end() {
    return this.#end;
  }
  get unsentFrames() {
    return this.#end - this.#sent;
  }
  /** Sent frames that are still retained (what the server may not have). */
  get inFlightFrames() {
    return this.#sent - this.#start;
  }
  /** Appends whole frames of interleaved PCM. */
  push(bytes) {
    let pos = 0;
    const last = this.#blocks.at(-1);
    if (last !== void 0) {
      const room = Math.min(bytes.byteLength, last.bytes.byteLength - last.frames * this.frameBytes);
      if (room > 0) {
        last.bytes.set(bytes.subarray(0, room), last.frames * this.frameBytes);
        last.frames += room / this.frameBytes;
        pos = room;
      }
    }
    const rest = bytes.byteLength - pos;
    if (rest > 0) {
      const offset = this.#end + pos / this.frameBytes;
      if (rest >= BLOCK_BYTES) {
        this.#blocks.push({ offset, bytes: bytes.subarray(pos), frames: rest / this.frameBytes });
      } else {
        const block = new Uint8Array(Math.floor(BLOCK_BYTES / this.frameBytes) * this.frameBytes);
        block.set(bytes.subarray(pos));
        this.#blocks.push({ offset, bytes: block, frames: rest / this.frameBytes });
      }
    }
    this.#end += bytes.byteLength / this.frameBytes;
  }
  /** The next `frames` (at most what is unsent) as one message; they count as sent from now on. */
  take(frames) {
    const from = this.#sent;
    const to = Math.min(this.#end, from + frames);
    this.#sent = to;
    return this.#slice(from, to);
  }
  /** Forgets frames before `offset` (the server provably has them). Never beyond what was sent. */
  trimBefore(offset) {
    const to = Math.min(offset, this.#sent);
    if (to <= this.#start) return;
    this.#start = to;
    let drop = 0;
    while (drop < this.#blocks.length && this.#blocks[drop].offset + this.#blocks[drop].frames <= to && this.#blocks[drop].frames * this.frameBytes === this.#blocks[drop].bytes.byteLength) drop++;
    if (drop > 0) this.#blocks.splice(0, drop);
  }
  /** Sends again from `offset` (where a resumed or new session stands); it must still be retained. */
  rewind(offset) {
    if (offset < this.#start || offset > this.#sent) {
      throw new RangeError(`cannot resend from ${offset}: retained input is [${this.#start}, ${this.#sent})`);
    }
    this.#sent = offset;
  }
  #slice(from, to) {
    const fb = this.frameBytes;
    const parts = [];
    for (const b of this.#blocks) {
      const lo = Math.max(from, b.offset);
      const hi = Math.min(to, b.offset + b.frames);
      if (hi > lo) parts.push(b.bytes.subarray((lo - b.offset) * fb, (hi - b.offset) * fb));
      if (b.offset >= to) break;
    }
    if (parts.length === 1) return parts[0];
    const out = new Uint8Array((to - from) * fb);
    let p = 0;
    for (const part of parts) {
      out.set(part, p);
      p += part.byteLength;
    }
    return out;
  }
};

// client-sdk/src/send-pacer.ts
var AudioSendPacer = class {
  ratePerSecond;
  burst;
  maxUnread;
  #tokens;
  #lastMs;
  /** End input offsets of sent messages not yet known to be read, oldest first. */
  #unread = [];
  constructor(maxAudioMessagesPerSecond, nowMs) {
    const limit = Math.max(1, maxAudioMessagesPerSecond);
    this.ratePerSecond = limit / 2;
    this.burst = Math.max(1, Math.floor(limit / 4));
    this.maxUnread = Math.max(1, Math.floor(limit / 4));
    this.#tokens = this.burst;
    this.#lastMs = nowMs;
  }
  get unread() {
    return this.#unread.length;
  }
  check(nowMs) {
    this.#refill(nowMs);
    if (this.#unread.length >= this.maxUnread) return { kind: "wait-ack" };
    if (this.#tokens >= 1) return { kind: "send" };
    return { kind: "wait-token", retryInMs: Math.ceil((1 - this.#tokens) * 1e3 / this.ratePerSecond) };
  }
  /** One message was sent, ending at input offset `endOffset`. */
  sent(endOffset, nowMs) {
    this.#refill(nowMs);
    this.#tokens -= 1;
    this.#unread.push(endOffset);
  }
  /** The server has read input up to `offset`: every message ending there or before is read. */
  read(offset) {
    let n = 0;
    while (n < this.#unread.length && this.#unread[n] <= offset) n++;
    if (n > 0) this.#unread.splice(0, n);
  }
  #refill(nowMs) {
    this.#tokens = Math.min(this.burst, this.#tokens + (nowMs - this.#lastMs) * this.ratePerSecond / 1e3);
    this.#lastMs = nowMs;
  }
};

// client-sdk/src/input-sender.ts
var ACK_PING_PREFIX = "livestem-sdk-ack-";
function gcd(a, b) {
  return b === 0 ? a : gcd(b, a % b);
}
var InputSender = class {
  outbox;
  #pacer;
  #windowFrames = 0;
  #maxMessageFrames = 1;
  /** Input samples per whole number of output samples: a replacement session may only start on this step. */
  #stepIn = 1;
  #inRate = 1;
  #outRate = 1;
  #ackPing;
  #ackSeq = 0;
  #timer;
  constructor(frameBytes) {
    this.outbox = new InputOutbox(frameBytes);
  }
  /** A new connection (first, resumed or replacement): its limits, and a fresh message budget like the server's. */
  connected(ready, nowMs) {
    const inRate = ready.input.sampleRateHz;
    const outRate = ready.output.sampleRateHz;
    const latencyIn = Math.ceil(ready.latency.samples * inRate / outRate);
    const hopIn = Math.ceil(ready.model.hopSamples * inRate / ready.model.sampleRateHz);
    this.#windowFrames = Math.max(Math.floor(ready.limits.maxBufferedInputMs * inRate / 1e3), 2 * (latencyIn + hopIn));
    this.#maxMessageFrames = Math.max(1, Math.min(Math.floor(ready.limits.maxMessageBytes / this.outbox.frameBytes), Math.floor(this.#windowFrames / 4)));
    this.#inRate = inRate;
    this.#outRate = outRate;
    this.#stepIn = inRate / gcd(inRate, outRate);
    this.#pacer = new AudioSendPacer(ready.limits.maxAudioMessagesPerSecond, nowMs);
    this.#ackPing = void 0;
    this.stop();
  }
  /** Input position (floor) that output up to `outputOffset` stands for. */
  toInput(outputOffset) {
    return Math.floor(outputOffset * this.#inRate / this.#outRate);
  }
  toOutput(inputOffset) {
    return inputOffset * this.#outRate / this.#inRate;
  }
  /** Sends what the bounds allow; true when nothing is left unsent. `retry` is called when a token is due. */
  pump(socket, retry) {
    const pacer = this.#pacer;
    if (pacer === void 0 || socket.readyState !== SOCKET_OPEN) return false;
    const box = this.outbox;
    while (box.unsentFrames > 0) {
      const room = this.#windowFrames - box.inFlightFrames;
      if (room <= 0) return false;
      const verdict = pacer.check(performance.now());
      if (verdict.kind === "wait-ack") {
        this.#sendAckPing(socket);
        return false;
      }
      if (verdict.kind === "wait-token") {
        this.#timer ??= setTimeout(() => {
          this.#timer = void 0;
          retry();
        }, verdict.retryInMs);
        return false;
      }
      socket.send(box.take(Math.min(room, this.#maxMessageFrames)));
      pacer.sent(box.sent, performance.now());
    }
    return true;
  }
  /**
   * The server has read input up to `readInput` (output proves it) and every kind was delivered up to
   * `deliveredInput`: input before both is no longer needed, on a step a replacement session can start from.
   */
  confirmed(readInput, deliveredInput) {
    this.#pacer?.read(readInput);
    const keepFrom = Math.min(readInput, deliveredInput, this.outbox.sent);
    this.outbox.trimBefore(Math.floor(keepFrom / this.#stepIn) * this.#stepIn);
  }
  /** A `pong` for our ping: the server read every message sent before it. True when it was ours. */
  pong(id) {
    if (this.#ackPing === void 0 || id !== this.#ackPing.id) return false;
    this.#pacer?.read(this.#ackPing.offset);
    this.#ackPing = void 0;
    return true;
  }
  stop() {
    clearTimeout(this.#timer);
    this.#timer = void 0;
  }
  /** Used only when the message bound is hit and output cannot tell us (e.g. before the first output). */
  #sendAckPing(socket) {
    if (this.#ackPing !== void 0) return;
    this.#ackPing = { id: `${ACK_PING_PREFIX}${++this.#ackSeq}`, offset: this.outbox.sent };
    socket.send(JSON.stringify({ type: "ping", id: this.#ackPing.id }));
  }
};

// client-sdk/src/resume.ts
function reconnectPolicy(option) {
  if (option === void 0 || option === false) return void 0;
  const o = option === true ? {} : option;
  return {
    resume: o.resume ?? true,
    attempts: o.attempts ?? 3,
    delayMs: o.delayMs ?? 200,
    maxDelayMs: o.maxDelayMs ?? 5e3,
    bufferInputMs: o.bufferInputMs ?? 1e4
  };
}
function backoffMs(attempt, policy, random = Math.random) {
  const ceiling = Math.min(policy.maxDelayMs, policy.delayMs * 2 ** Math.min(attempt, 30));
  return ceiling * (0.5 + 0.5 * random());
}
var REFUSALS = /* @__PURE__ */ new Set(["LIVESTEM_ERR_UNKNOWN_SESSION", "LIVESTEM_ERR_RESUME_GAP"]);
var sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
function asClientError(err) {
  if (err instanceof LivestemClientError) return err;
  return new LivestemClientError("LIVESTEM_CLIENT_CONNECTION_FAILED", err instanceof Error ? err.message : String(err), { cause: err });
}
async function recover(ctx) {
  const now = ctx.now ?? Date.now;
  let attempts = 0;
  let refusal;
  if (ctx.policy.resume && ctx.graceMs > 0) {
    const deadline = ctx.droppedAtMs + ctx.graceMs;
    for (let attempt = 0; ; attempt++) {
      const delay = backoffMs(attempt, ctx.policy);
      if (now() + delay >= deadline) break;
      await sleep(delay);
      if (ctx.cancelled()) return { kind: "cancelled" };
      attempts++;
      try {
        const timeoutMs = Math.max(250, Math.min(ctx.connectTimeoutMs, deadline - now() + 2e3));
        const opened = await openResume(ctx.handshake, ctx.resumeRequest(), timeoutMs);
        if (ctx.cancelled()) {
          opened.socket.close(1e3, "client closed");
          return { kind: "cancelled" };
        }
        const problem = ctx.acceptResumed(opened.answer);
        if (problem === void 0) return { kind: "resumed", opened, attempts };
        opened.socket.onclose = null;
        opened.socket.close(1e3, "cannot resume losslessly");
        refusal = problem;
        break;
      } catch (err) {
        const error = asClientError(err);
        if (REFUSALS.has(error.code)) {
          refusal = error;
          break;
        }
        if (!error.retryable) return { kind: "failed", error };
      }
    }
  }
  refusal ??= new LivestemClientError(
    "LIVESTEM_CLIENT_CONNECTION_FAILED",
    ctx.policy.resume && ctx.graceMs > 0 ? `could not resume within the ${ctx.graceMs} ms grace period` : "resume is off"
  );
  let lastError = refusal;
  for (let attempt = 0; attempt < ctx.policy.attempts; attempt++) {
    await sleep(backoffMs(attempt, ctx.policy));
    if (ctx.cancelled()) return { kind: "cancelled" };
    attempts++;
    try {
      const opened = await openStart(ctx.handshake, ctx.startParams(), ctx.connectTimeoutMs);
      if (ctx.cancelled()) {
        opened.socket.close(1e3, "client closed");
        return { kind: "cancelled" };
      }
      return { kind: "new-session", opened, attempts, refusal };
    } catch (err) {
      lastError = asClientError(err);
      if (!lastError.retryable) break;
    }
  }
  return { kind: "failed", error: lastError };
}

// client-sdk/src/output-chunk.ts
function decodeOutputFrame(bytes) {
  const { kind, sequence, sampleOffset, sampleRateHz, samples } = decodeAudioFrame(bytes);
  return { kind, sequence, sampleOffset, sampleRateHz, samples };
}

// client-sdk/src/session.ts
var DEFAULT_HIGH_WATER_MARK_BYTES = 256 * 1024;
var DRAIN_POLL_MS = 10;
function readyOf(m) {
  const { type: _resumed, inputSamples: _in, outputSampleOffset: _out, ...fields } = m;
  return { ...fields, type: "ready" };
}
var LivestemSession = class extends TypedEvents {
  #opts;
  #policy;
  /** `start` as it would be sent now: configure changes it, so a replacement session keeps the caller's settings. */
  #params;
  #socket;
  #ready;
  #state = "open";
  #sender;
  #delivery;
  /** Caller-timeline input offset of the current server session's input sample 0. */
  #inputBase = 0;
  #pendingError;
  #doneReceived = false;
  #endRequested = false;
  #endSent = false;
  #recovery;
  #finished = false;
  #requestId = 0;
  #waiters = /* @__PURE__ */ new Map();
  closed;
  #resolveClosed;
  constructor(opts, opened) {
    super();
    this.#opts = opts;
    this.#policy = reconnectPolicy(opts.reconnect);
    this.#params = { ...opts };
    this.#ready = opened.answer;
    this.#sender = new InputSender(((opts.format ?? "f32le") === "s16le" ? 2 : 4) * opts.channels);
    this.#delivery = new OutputDelivery(opened.answer.output.outputs);
    this.closed = new Promise((resolve) => {
      this.#resolveClosed = resolve;
    });
    this.#adopt(opened);
    this.#drainEarly(opened);
  }
  /** The server's `ready` (session id, model, latency in output samples, limits) of the current connection. */
  get ready() {
    return this.#ready;
  }
  get state() {
    return this.#state;
  }
  /** Input samples (per channel) written so far, across reconnects. */
  get inputSamples() {
    return this.#sender.outbox.end;
  }
  /**
   * Sends planar audio (one Float32Array per channel, samples in [-1, 1]). Resolves when what is queued (unsent input
   * plus the socket's queue) is back under the high-water mark, so `await session.write(x)` in a loop never buffers
   * without bound. While reconnecting it keeps taking input up to `reconnect.bufferInputMs`, then waits.
   */
  async write(planar) {
    if (this.#state !== "open" && this.#state !== "reconnecting" || this.#endRequested) {
      throw new LivestemClientError("LIVESTEM_CLIENT_CLOSED", `cannot write: session is ${this.#endRequested ? "ending" : this.#state}`);
    }
    if (planar.length !== this.#opts.channels) {
      throw new LivestemClientError("LIVESTEM_CLIENT_BAD_ARGUMENT", `expected ${this.#opts.channels} channels, got ${planar.length}`);
    }
    const frames = planar[0].length;
    if (planar.some((ch) => ch.length !== frames)) {
      throw new LivestemClientError("LIVESTEM_CLIENT_BAD_ARGUMENT", "channels have different lengths");
    }
    if (frames === 0) return;
    this.#sender.outbox.push(encodePcm(planar, this.#opts.format ?? "f32le"));
    this.#pump();
    await this.#writable();
  }
  #overHighWater() {
    if (this.#state === "closed") return false;
    if (this.#state === "reconnecting") {
      return this.#sender.outbox.unsentFrames > (this.#policy?.bufferInputMs ?? 0) * this.#opts.sampleRate / 1e3;
    }
    const { unsentFrames, frameBytes } = this.#sender.outbox;
    const queued = unsentFrames * frameBytes + (this.#socket?.bufferedAmount ?? 0);
    return queued > (this.#opts.highWaterMarkBytes ?? DEFAULT_HIGH_WATER_MARK_BYTES);
  }
  async #writable() {
    if (!this.#overHighWater()) return;
    while (this.#overHighWater()) await new Promise((resolve) => setTimeout(resolve, DRAIN_POLL_MS));
    if (this.#state === "closed") throw new LivestemClientError("LIVESTEM_CLIENT_CLOSED", "session closed while the write was queued");
    this.emit("drain", void 0);
  }
  /** Changes the karaoke vocal level (0..1) sample-exactly; resolves with the output offset it applies from. */
  setVocalGain(vocalGain) {
    if (!Number.isFinite(vocalGain) || vocalGain < 0 || vocalGain > 1) {
      return Promise.reject(new LivestemClientError("LIVESTEM_CLIENT_BAD_ARGUMENT", `vocalGain ${vocalGain} is not in [0, 1]`));
    }
    return this.configure({ vocalGain });
  }
  configure(change) {
    return this.#request({ type: "configure", ...change }, "configured").then((m) => m.sampleOffset + this.#delivery.base);
  }
  /** Asks the server for this session's counters. */
  requestStats() {
    return this.#request({ type: "stats", id: ++this.#requestId }, "stats");
  }
  /** Round trip of a control message through the server, in ms. */
  async ping() {
    const t0 = performance.now();
    await this.#request({ type: "ping", id: ++this.#requestId }, "pong");
    return performance.now() - t0;
  }
  /** No more audio: resolves with `done` after the last output chunk has been delivered. */
  end() {
    if (this.#state !== "open" && this.#state !== "reconnecting" || this.#endRequested) {
      return Promise.reject(new LivestemClientError("LIVESTEM_CLIENT_CLOSED", `cannot end: session is ${this.#state}`));
    }
    this.#endRequested = true;
    if (this.#state === "open") this.#state = "ending";
    const done = new Promise((resolve, reject) => {
      const offDone = this.once("done", (d) => {
        offClose();
        resolve(d);
      });
      const offClose = this.once("close", (ev) => {
        offDone();
        reject(ev.error ?? new LivestemClientError("LIVESTEM_CLIENT_CLOSED", `closed (code ${ev.code}) before done`));
      });
    });
    this.#pump();
    return done;
  }
  /** Closes the connection now (no tail flush). Idempotent. */
  close() {
    if (this.#state === "closed") return;
    this.#state = "closed";
    const socket = this.#socket;
    if (socket !== void 0 && socket.readyState === SOCKET_OPEN) socket.close(1e3, "client closed");
    else this.#finish({ code: 1e3, reason: "client closed" });
  }
  async #request(msg, answer) {
    while (this.#state === "reconnecting") await this.#recovery;
    const socket = this.#socket;
    if (this.#state === "closed" || socket === void 0) throw new LivestemClientError("LIVESTEM_CLIENT_CLOSED", "session is closed");
    return new Promise((resolve, reject) => {
      const onMessage = (m) => {
        if (m.type !== answer) return;
        if ("id" in msg && "id" in m && m.id !== msg.id) return;
        this.#waiters.delete(onMessage);
        resolve(m);
      };
      this.#waiters.set(onMessage, reject);
      socket.send(JSON.stringify(msg));
    });
  }
  /** Pending requests cannot be answered on another socket; whether the server applied them is unknown. */
  #failWaiters(error) {
    const rejects = [...this.#waiters.values()];
    this.#waiters.clear();
    for (const reject of rejects) reject(error);
  }
  // ---- input ----
  /** Sends what the bounds allow (input-sender.ts); `end` follows the last input. Called whenever a bound may have moved. */
  #pump() {
    const socket = this.#socket;
    if (this.#state !== "open" && this.#state !== "ending" || socket === void 0) return;
    const allSent = this.#sender.pump(socket, () => this.#pump());
    if (allSent && this.#endRequested && !this.#endSent) {
      this.#endSent = true;
      socket.send(JSON.stringify({ type: "end" }));
    }
  }
  /** Delivered output proves what the server read, and which retained input a replacement session would need. */
  #confirmInput() {
    const s = this.#sender;
    s.confirmed(this.#inputBase + s.toInput(this.#delivery.resumeOffset), s.toInput(this.#delivery.deliveredEnd));
  }
  // ---- socket ----
  /** Takes over a socket whose handshake succeeded (first connect, resume or replacement session). */
  #adopt(opened) {
    const ready = opened.answer.type === "resumed" ? readyOf(opened.answer) : opened.answer;
    this.#ready = ready;
    this.#sender.connected(ready, performance.now());
    const { socket } = opened;
    this.#socket = socket;
    socket.onmessage = (ev) => this.#onMessage(socket, ev.data);
    socket.onerror = () => void 0;
    socket.onclose = (ev) => this.#onClose(socket, ev.code, ev.reason);
    this.#state = this.#endRequested ? "ending" : "open";
  }
  /** Messages that arrived with the handshake's answer, then live ones; in order. */
  #drainEarly(opened) {
    for (const ev of opened.early) {
      if (isCloseMarker(ev.data)) this.#onClose(opened.socket, ev.data.code, ev.data.reason);
      else this.#onMessage(opened.socket, ev.data);
    }
    this.#pump();
  }
  #onMessage(socket, data) {
    if (socket !== this.#socket) return;
    const bytes = messageBytes(data);
    if (bytes !== void 0) this.#onFrame(bytes);
    else if (typeof data === "string") this.#onText(data);
  }
  #onFrame(bytes) {
    let chunk;
    try {
      chunk = decodeOutputFrame(bytes);
    } catch (err) {
      if (!(err instanceof FrameDecodeError)) throw err;
      this.emit("error", new LivestemClientError("LIVESTEM_CLIENT_PROTOCOL", err.message, { cause: err }));
      return;
    }
    const fresh = this.#delivery.frame(chunk);
    this.#confirmInput();
    if (fresh !== void 0) {
      this.emit(fresh.kind, fresh);
      this.emit("output", fresh);
    }
    this.#pump();
  }
  #onText(text) {
    const msg = JSON.parse(text);
    for (const waiter of [...this.#waiters.keys()]) waiter(msg);
    switch (msg.type) {
      case "vad": {
        const vad = this.#delivery.vad(msg);
        if (vad !== void 0) this.emit("vad", vad);
        return;
      }
      case "stats":
        this.emit("stats", msg);
        return;
      case "done":
        this.#doneReceived = true;
        this.emit("done", msg);
        return;
      case "configured":
        this.#params = { ...this.#params, outputs: msg.outputs, vocalGain: msg.vocalGain };
        this.#delivery.configured(msg.outputs, msg.sampleOffset);
        return;
      case "pong":
        if (this.#sender.pong(msg.id)) this.#pump();
        return;
      case "input-dropped":
        this.emit("inputDropped", msg);
        return;
      case "error":
        this.#pendingError = errorFromMessage(msg);
        this.emit("error", this.#pendingError);
        return;
      default:
        return;
    }
  }
  #onClose(socket, code, reason) {
    if (socket !== this.#socket) return;
    this.#socket = void 0;
    this.#sender.stop();
    if (this.#state === "closed" || this.#doneReceived) return this.#finish({ code, reason });
    if (this.#pendingError !== void 0) return this.#finish({ code, reason, error: this.#pendingError });
    const why = this.#endSent ? "after end (the server ends such a session)" : code === 4e3 ? "(resumed by another connection)" : "";
    const error = new LivestemClientError("LIVESTEM_CLIENT_CONNECTION_FAILED", `connection dropped (code ${code}) ${why}`.trim(), { status: code });
    if (this.#endSent || code === 4e3 || this.#policy === void 0) return this.#finish({ code, reason, error });
    this.#state = "reconnecting";
    this.#failWaiters(new LivestemClientError("LIVESTEM_CLIENT_CONNECTION_FAILED", `connection dropped (code ${code}) before the answer`, { status: code }));
    this.emit("disconnect", { code, reason });
    this.#recovery = this.#reconnect(this.#policy, code, Date.now());
  }
  #finish(ev) {
    if (this.#finished) return;
    this.#finished = true;
    this.#state = "closed";
    this.#sender.stop();
    this.#failWaiters(ev.error ?? new LivestemClientError("LIVESTEM_CLIENT_CLOSED", `closed (code ${ev.code})`));
    this.emit("close", ev);
    this.endIterators();
    this.#resolveClosed(ev);
  }
  // ---- reconnect ----
  async #reconnect(policy, code, droppedAtMs) {
    const ready = this.#ready;
    const outcome = await recover({
      handshake: this.#opts,
      policy,
      graceMs: ready.limits.resumeGraceMs,
      droppedAtMs,
      connectTimeoutMs: this.#opts.connectTimeoutMs ?? 1e4,
      resumeRequest: () => ({ sessionId: ready.sessionId, resumeToken: ready.resumeToken, lastSampleOffset: this.#delivery.resumeOffset }),
      startParams: () => this.#params,
      acceptResumed: (m) => {
        const has = this.#inputBase + m.inputSamples;
        const { start, sent } = this.#sender.outbox;
        if (m.sessionId === ready.sessionId && has >= start && has <= sent) return void 0;
        return new LivestemClientError("LIVESTEM_CLIENT_PROTOCOL", `resumed with input ${has}, retained [${start}, ${sent})`);
      },
      cancelled: () => this.#state === "closed"
    });
    const downtimeMs = Date.now() - droppedAtMs;
    if (outcome.kind === "cancelled") return;
    if (this.#state === "closed") {
      if (outcome.kind !== "failed") outcome.opened.socket.close(1e3, "client closed");
      return;
    }
    if (outcome.kind === "failed") {
      const error = new LivestemClientError("LIVESTEM_CLIENT_CONNECTION_FAILED", `connection dropped (code ${code}) and reconnect failed: ${outcome.error.message}`, {
        status: code,
        cause: outcome.error
      });
      this.emit("error", error);
      return this.#finish({ code, reason: "reconnect failed", error });
    }
    if (outcome.kind === "resumed") {
      const m = outcome.opened.answer;
      const has = this.#inputBase + m.inputSamples;
      const resentSamples = this.#sender.outbox.sent - has;
      this.#sender.outbox.rewind(has);
      this.#delivery.resumed(m.output.outputs, m.outputSampleOffset);
      this.#adopt(outcome.opened);
      this.emit("resumed", { ready: this.#ready, resumed: m, resentSamples, attempts: outcome.attempts, downtimeMs });
      return this.#drainEarly(outcome.opened);
    }
    const next = outcome.opened.answer;
    const inputSampleOffset = this.#sender.outbox.start;
    const outputOffsetBase = inputSampleOffset * next.output.sampleRateHz / next.input.sampleRateHz;
    this.#inputBase = inputSampleOffset;
    this.#sender.outbox.rewind(inputSampleOffset);
    this.#delivery.newSession(next.output.outputs, outputOffsetBase);
    this.#adopt(outcome.opened);
    this.emit("reconnect", { ready: next, outputOffsetBase, inputSampleOffset, reason: outcome.refusal, attempts: outcome.attempts, downtimeMs });
    this.#drainEarly(outcome.opened);
  }
};
async function connect(opts) {
  const opened = await openStart(opts, opts, opts.connectTimeoutMs ?? 1e4);
  const session = new LivestemSession(opts, opened);
  return session;
}

// client-sdk/src/webrtc.ts
function preferStereoOpus(sdp) {
  const pt = /a=rtpmap:(\d+) opus\/48000\/2/i.exec(sdp)?.[1];
  if (pt === void 0) return sdp;
  return sdp.replace(
    new RegExp(`a=fmtp:${pt} ([^\\r\\n]*)`, "g"),
    (line, params) => params.includes("stereo=1") ? line : `a=fmtp:${pt} ${params};stereo=1;sprop-stereo=1`
  );
}
function httpBase(url) {
  const u = new URL(url);
  if (u.protocol === "ws:") u.protocol = "http:";
  if (u.protocol === "wss:") u.protocol = "https:";
  u.pathname = "/";
  u.search = "";
  return u.toString().replace(/\/$/, "");
}
async function gathered(pc, timeoutMs) {
  if (pc.iceGatheringState === "complete") return;
  await new Promise((resolve) => {
    const timer = setTimeout(resolve, timeoutMs);
    pc.addEventListener("icegatheringstatechange", () => {
      if (pc.iceGatheringState === "complete") {
        clearTimeout(timer);
        resolve();
      }
    });
  });
}
async function httpError(res) {
  let body = {};
  try {
    body = await res.json();
  } catch (err) {
    return new LivestemClientError("LIVESTEM_CLIENT_PROTOCOL", `HTTP ${res.status} without a JSON error body`, { status: res.status, cause: err });
  }
  const code = body.error?.code;
  const message = body.error?.message ?? `HTTP ${res.status}`;
  if (!isServerErrorCode(code)) return new LivestemClientError("LIVESTEM_CLIENT_PROTOCOL", message, { status: res.status });
  return new LivestemClientError(code, message, { status: res.status, ...body.error?.retryable === void 0 ? {} : { retryable: body.error.retryable } });
}
async function separateMediaStream(stream, opts) {
  const input = stream.getAudioTracks()[0];
  if (input === void 0) throw new LivestemClientError("LIVESTEM_CLIENT_BAD_ARGUMENT", "the MediaStream has no audio track");
  const outputs = opts.outputs ?? ["vocals", "accompaniment"];
  const pc = new RTCPeerConnection({ iceServers: opts.iceServers ?? [] });
  const events = new TypedEvents();
  const channel = pc.createDataChannel("events");
  pc.addTransceiver(input, { direction: "sendonly", streams: [stream] });
  const receivers = outputs.map(() => pc.addTransceiver("audio", { direction: "recvonly" }));
  const streams = /* @__PURE__ */ new Map();
  const offer = await pc.createOffer();
  await pc.setLocalDescription({ type: "offer", sdp: preferStereoOpus(offer.sdp ?? "") });
  await gathered(pc, opts.gatherTimeoutMs ?? 2e3);
  const base = httpBase(opts.url);
  const query = new URLSearchParams({ outputs: outputs.join(",") });
  if (opts.model !== void 0) query.set("model", opts.model);
  if (opts.vocalGain !== void 0) query.set("vocalGain", String(opts.vocalGain));
  const headers = { "content-type": "application/sdp" };
  if (opts.token !== void 0) headers["authorization"] = `Bearer ${opts.token}`;
  let res;
  try {
    res = await fetch(`${base}/v1/webrtc?${query.toString()}`, { method: "POST", headers, body: pc.localDescription?.sdp ?? "" });
  } catch (err) {
    pc.close();
    throw new LivestemClientError("LIVESTEM_CLIENT_CONNECTION_FAILED", `POST /v1/webrtc failed: ${err.message}`, { cause: err });
  }
  if (res.status !== 201) {
    pc.close();
    throw await httpError(res);
  }
  const location = res.headers.get("location") ?? "";
  const resourceUrl = new URL(location, `${base}/`).toString();
  await pc.setRemoteDescription({ type: "answer", sdp: await res.text() });
  outputs.forEach((kind, i) => streams.set(kind, new MediaStream([receivers[i].receiver.track])));
  channel.addEventListener("message", (ev) => {
    const msg = JSON.parse(String(ev.data));
    switch (msg.type) {
      case "ready":
        events.emit("ready", msg);
        return;
      case "vad":
        events.emit("vad", msg);
        return;
      case "stats":
        events.emit("stats", msg);
        return;
      case "done":
        events.emit("done", msg);
        return;
      case "configured":
        events.emit("configured", msg);
        return;
      case "closed":
        events.emit("close", { reason: msg.reason ?? "closed" });
        return;
      case "error": {
        const e = msg;
        events.emit(
          "error",
          isServerErrorCode(e.code) ? new LivestemClientError(e.code, e.message ?? e.code, e.retryable === void 0 ? {} : { retryable: e.retryable }) : new LivestemClientError("LIVESTEM_CLIENT_PROTOCOL", e.message ?? "unknown error")
        );
        return;
      }
      default:
        return;
    }
  });
  let closing;
  const close = () => closing ??= (async () => {
    try {
      await fetch(resourceUrl, { method: "DELETE", headers: opts.token === void 0 ? {} : { authorization: `Bearer ${opts.token}` } });
    } finally {
      pc.close();
      events.emit("close", { reason: "client closed" });
      events.endIterators();
    }
  })();
  pc.addEventListener("connectionstatechange", () => {
    if (pc.connectionState === "failed") {
      events.emit("error", new LivestemClientError("LIVESTEM_CLIENT_CONNECTION_FAILED", "WebRTC connection failed"));
      close().catch(
        (err) => events.emit("error", new LivestemClientError("LIVESTEM_CLIENT_CONNECTION_FAILED", "DELETE of the stream failed", { cause: err }))
      );
    }
  });
  return {
    vocals: streams.get("vocals"),
    accompaniment: streams.get("accompaniment"),
    karaoke: streams.get("karaoke"),
    streams,
    events,
    pc,
    resourceUrl,
    setVocalGain(vocalGain) {
      if (!Number.isFinite(vocalGain) || vocalGain < 0 || vocalGain > 1) {
        throw new LivestemClientError("LIVESTEM_CLIENT_BAD_ARGUMENT", `vocalGain ${vocalGain} is not in [0, 1]`);
      }
      if (channel.readyState === "open") channel.send(JSON.stringify({ type: "configure", vocalGain }));
    },
    close
  };
}

// client-sdk/src/worklet.ts
var WORKLET_SOURCE = `
class Capture extends AudioWorkletProcessor {
  constructor(options) {
    super();
    this.chunk = options.processorOptions.chunkSamples;
    this.l = new Float32Array(this.chunk); this.r = new Float32Array(this.chunk); this.n = 0;
  }
  process(inputs) {
    const input = inputs[0];
    if (!input || input.length === 0) return true;
    const l = input[0], r = input[1] || input[0];
    for (let i = 0; i < l.length; i++) {
      this.l[this.n] = l[i]; this.r[this.n] = r[i];
      if (++this.n === this.chunk) {
        this.port.postMessage([this.l, this.r], [this.l.buffer, this.r.buffer]);
        this.l = new Float32Array(this.chunk); this.r = new Float32Array(this.chunk); this.n = 0;
      }
    }
    return true;
  }
}
class Player extends AudioWorkletProcessor {
  constructor(options) {
    super();
    this.size = options.processorOptions.capacity;
    this.l = new Float32Array(this.size); this.r = new Float32Array(this.size);
    this.read = 0; this.fill = 0; this.dropped = 0; this.underruns = 0;
    this.port.onmessage = (ev) => {
      const [l, r] = ev.data;
      for (let i = 0; i < l.length; i++) {
        if (this.fill === this.size) { this.dropped += l.length - i; break; }
        const w = (this.read + this.fill) % this.size;
        this.l[w] = l[i]; this.r[w] = (r || l)[i]; this.fill++;
      }
    };
  }
  process(_inputs, outputs) {
    const out = outputs[0];
    const n = out[0].length;
    if (this.fill < n) { this.underruns++; if (this.underruns % 50 === 1) this.port.postMessage({ underruns: this.underruns, dropped: this.dropped }); return true; }
    for (let i = 0; i < n; i++) {
      out[0][i] = this.l[this.read]; if (out[1]) out[1][i] = this.r[this.read];
      this.read = (this.read + 1) % this.size; this.fill--;
    }
    return true;
  }
}
registerProcessor('livestem-capture', Capture);
registerProcessor('livestem-player', Player);
`;
var registered = /* @__PURE__ */ new WeakMap();
function registerWorklets(context) {
  let done = registered.get(context);
  if (done === void 0) {
    const url = URL.createObjectURL(new Blob([WORKLET_SOURCE], { type: "text/javascript" }));
    done = context.audioWorklet.addModule(url).finally(() => URL.revokeObjectURL(url));
    registered.set(context, done);
  }
  return done;
}
async function streamAudioNode(context, source, opts) {
  await registerWorklets(context);
  const session = await connect({ ...opts, sampleRate: context.sampleRate, channels: 2 });
  const chunkSamples = opts.chunkSamples ?? Math.round(context.sampleRate / 50);
  const capacity = Math.round(context.sampleRate * (opts.maxBufferedMs ?? 500) / 1e3);
  const players = /* @__PURE__ */ new Map();
  for (const kind of opts.play ?? session.ready.output.outputs) {
    const node = new AudioWorkletNode(context, "livestem-player", { numberOfInputs: 0, outputChannelCount: [2], processorOptions: { capacity } });
    session.on(kind, (chunk) => node.port.postMessage(chunk.samples));
    players.set(kind, node);
  }
  const capture = new AudioWorkletNode(context, "livestem-capture", { numberOfOutputs: 0, processorOptions: { chunkSamples } });
  let writing = Promise.resolve();
  capture.port.onmessage = (ev) => {
    if (session.state !== "open" && session.state !== "reconnecting") return;
    writing = writing.then(() => session.write(ev.data));
  };
  source.connect(capture);
  return {
    session,
    players,
    async stop() {
      source.disconnect(capture);
      capture.port.onmessage = null;
      await writing;
      if (session.state === "open" || session.state === "reconnecting") await session.end();
      await session.closed;
      for (const node of players.values()) node.disconnect();
    }
  };
}
export {
  CLIENT_ERROR_CODES,
  ERROR_CATALOG,
  LivestemClientError,
  LivestemSession,
  OUTPUT_KINDS,
  PROTOCOL_VERSION,
  SAMPLE_FORMATS,
  SERVER_ERROR_CODES,
  SUPPORTED_SAMPLE_RATES_HZ,
  TypedEvents,
  connect,
  decodeOutputFrame,
  encodePcm,
  isServerErrorCode,
  separateMediaStream,
  streamAudioNode,
  streamUrl
};
//# sourceMappingURL=livestem.js.map
