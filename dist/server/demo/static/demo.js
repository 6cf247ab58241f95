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

// client-sdk/src/errors.ts
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

// client-sdk/src/outbox.ts
var BLOCK_BYTES = 64 * 1024;

// client-sdk/src/session.ts
var DEFAULT_HIGH_WATER_MARK_BYTES = 256 * 1024;

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
  const location2 = res.headers.get("location") ?? "";
  const resourceUrl = new URL(location2, `${base}/`).toString();
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

// server/demo/static/demo.ts
var state = {
  phase: "idle",
  source: void 0,
  vadActive: false,
  vadEvents: 0,
  statsEvents: 0,
  algorithmicLatencyMs: void 0,
  measuredLatencyMs: void 0,
  inputRms: 0,
  outputRms: 0,
  error: void 0
};
globalThis.livestemDemo = state;
function el(id) {
  const found = document.getElementById(id);
  if (found === null) throw new Error(`#${id} missing from the page`);
  return found;
}
var fileInput = el("file");
var micButton = el("mic");
var stopButton = el("stop");
var modelSelect = el("model");
var vocalSlider = el("vocal");
var vocalValue = el("vocal-value");
var vadDot = el("vad-dot");
var vadLabel = el("vad-label");
var latencyLabel = el("latency");
var stateLabel = el("state");
var details = el("details");
var player = el("player");
var meterIn = el("meter-input");
var meterOut = el("meter-output");
var vadCanvas = el("vad-history");
var HISTORY = 240;
var vadHistory = [];
var running;
function setPhase(phase, text) {
  state.phase = phase;
  stateLabel.textContent = text ?? phase;
  micButton.disabled = phase === "connecting" || phase === "live";
  fileInput.disabled = micButton.disabled;
  stopButton.disabled = phase !== "live";
}
async function loadModels() {
  const res = await fetch("/v1/models");
  if (!res.ok) {
    modelSelect.replaceChildren(new Option("server default", "", true, true));
    return;
  }
  const body = await res.json();
  modelSelect.replaceChildren(
    ...body.models.map((m) => {
      const option = new Option(`${m.name} (${m.arch})`, m.name, m.default, m.default);
      return option;
    })
  );
}
function rms(analyser, buf) {
  analyser.getFloatTimeDomainData(buf);
  let sum = 0;
  for (const x of buf) sum += x * x;
  return Math.sqrt(sum / buf.length);
}
function drawMeter(canvas, level) {
  const g = canvas.getContext("2d");
  if (g === null) return;
  const db = 20 * Math.log10(level + 1e-9);
  const fraction = Math.max(0, Math.min(1, (db + 60) / 60));
  g.clearRect(0, 0, canvas.width, canvas.height);
  g.fillStyle = fraction > 0.9 ? "#ff5c8a" : "#45d19b";
  g.fillRect(0, 0, canvas.width * fraction, canvas.height);
}
function drawVadHistory() {
  const g = vadCanvas.getContext("2d");
  if (g === null) return;
  const w = vadCanvas.width / HISTORY;
  g.clearRect(0, 0, vadCanvas.width, vadCanvas.height);
  vadHistory.forEach((p, i) => {
    g.fillStyle = p > 0.5 ? "#ff5c8a" : "#3b4556";
    const h = Math.max(2, p * vadCanvas.height);
    g.fillRect(i * w, vadCanvas.height - h, Math.max(1, w - 1), h);
  });
}
function onVad(ev) {
  state.vadEvents++;
  state.vadActive = ev.active;
  vadDot.classList.toggle("on", ev.active);
  vadLabel.textContent = ev.active ? "singing" : "no vocals";
  const mean = ev.probs.reduce((s, p) => s + p, 0) / Math.max(1, ev.probs.length);
  vadHistory.push(mean);
  if (vadHistory.length > HISTORY) vadHistory.splice(0, vadHistory.length - HISTORY);
}
async function measureLatency(pc) {
  const report = await pc.getStats();
  let rttMs = 0;
  let jitterMs = 0;
  report.forEach((s) => {
    if (s.type === "candidate-pair" && s.state === "succeeded" && s.currentRoundTripTime !== void 0) rttMs = s.currentRoundTripTime * 1e3;
    if (s.type === "inbound-rtp" && s.kind === "audio" && s.jitterBufferEmittedCount) {
      jitterMs = Math.max(jitterMs, (s.jitterBufferDelay ?? 0) / s.jitterBufferEmittedCount * 1e3);
    }
  });
  const algorithmic = state.algorithmicLatencyMs ?? 0;
  const packetMs = 2 * 20;
  state.measuredLatencyMs = algorithmic + rttMs + jitterMs + packetMs;
  latencyLabel.textContent = `\u2248 ${state.measuredLatencyMs.toFixed(0)} ms`;
  latencyLabel.title = `model ${algorithmic.toFixed(1)} ms + network ${rttMs.toFixed(1)} ms + jitter buffer ${jitterMs.toFixed(0)} ms + packets ${packetMs} ms`;
}
async function start(stream, ctx, source, stopSource) {
  setPhase("connecting");
  state.source = source;
  try {
    const sep = await separateMediaStream(stream, {
      url: location.origin,
      model: modelSelect.value,
      outputs: ["karaoke"],
      vocalGain: Number(vocalSlider.value)
    });
    const karaoke = sep.karaoke;
    player.srcObject = karaoke;
    const inAnalyser = ctx.createAnalyser();
    const outAnalyser = ctx.createAnalyser();
    ctx.createMediaStreamSource(stream).connect(inAnalyser);
    ctx.createMediaStreamSource(karaoke).connect(outAnalyser);
    sep.events.on("ready", (ready) => {
      state.algorithmicLatencyMs = ready.latency.ms;
      details.textContent = `model ${ready.model.name} \xB7 ${ready.model.nFft}-point STFT, hop ${ready.model.hopSamples} @ ${ready.model.sampleRateHz} Hz \xB7 session ${ready.sessionId.slice(0, 8)}`;
    });
    sep.events.on("vad", onVad);
    sep.events.on("stats", () => {
      state.statsEvents++;
    });
    sep.events.on("error", (err) => {
      state.error = `${err.code}: ${err.message}`;
      details.textContent = state.error;
    });
    sep.events.on("close", ({ reason }) => {
      if (running?.sep === sep) stop(`ended (${reason})`);
    });
    const timer = window.setInterval(() => {
      measureLatency(sep.pc).catch((err) => {
        details.textContent = `stats failed: ${String(err)}`;
      });
    }, 500);
    running = { sep, ctx, stream, source, stopSource, timer };
    setPhase("live", source === "file" ? "playing file" : "listening");
    const buf = new Float32Array(1024);
    const frame = () => {
      if (running?.sep !== sep) return;
      state.inputRms = rms(inAnalyser, buf);
      state.outputRms = rms(outAnalyser, buf);
      drawMeter(meterIn, state.inputRms);
      drawMeter(meterOut, state.outputRms);
      drawVadHistory();
      requestAnimationFrame(frame);
    };
    requestAnimationFrame(frame);
  } catch (err) {
    stopSource();
    state.error = err instanceof Error ? err.message : String(err);
    details.textContent = state.error;
    setPhase("error", "error");
  }
}
function stop(text = "stopped") {
  const r = running;
  running = void 0;
  if (r !== void 0) {
    window.clearInterval(r.timer);
    r.stopSource();
    player.srcObject = null;
    r.sep.close().catch((err) => {
      details.textContent = `close failed: ${String(err)}`;
    });
    r.ctx.close().catch((err) => {
      details.textContent = `audio context close failed: ${String(err)}`;
    });
  }
  vadDot.classList.remove("on");
  setPhase("idle", text);
}
micButton.addEventListener("click", () => {
  const ctx = new AudioContext({ sampleRate: 48e3 });
  navigator.mediaDevices.getUserMedia({ audio: { echoCancellation: false, noiseSuppression: false, autoGainControl: false, channelCount: 2 } }).then((stream) => start(stream, ctx, "microphone", () => stream.getTracks().forEach((t) => t.stop()))).catch((err) => {
    state.error = `microphone: ${String(err)}`;
    details.textContent = state.error;
    setPhase("error", "error");
  });
});
fileInput.addEventListener("change", () => {
  const file = fileInput.files?.[0];
  if (file === void 0) return;
  const ctx = new AudioContext({ sampleRate: 48e3 });
  const audio = new Audio(URL.createObjectURL(file));
  const source = ctx.createMediaElementSource(audio);
  const dest = ctx.createMediaStreamDestination();
  source.connect(dest);
  audio.addEventListener("ended", () => stop("song finished"));
  audio.play().then(
    () => start(dest.stream, ctx, "file", () => {
      audio.pause();
      URL.revokeObjectURL(audio.src);
    })
  ).catch((err) => {
    state.error = `file: ${String(err)}`;
    details.textContent = state.error;
    setPhase("error", "error");
  });
});
vocalSlider.addEventListener("input", () => {
  const gain = Number(vocalSlider.value);
  vocalValue.textContent = `${Math.round(gain * 100)} %`;
  running?.sep.setVocalGain(gain);
});
stopButton.addEventListener("click", () => stop());
modelSelect.addEventListener("change", () => {
  const r = running;
  if (r === void 0) return;
  running = void 0;
  window.clearInterval(r.timer);
  vadHistory.length = 0;
  r.sep.close().catch((err) => {
    details.textContent = `close failed: ${String(err)}`;
  });
  start(r.stream, r.ctx, r.source, r.stopSource).catch((err) => {
    details.textContent = `restart failed: ${String(err)}`;
  });
});
loadModels().catch((err) => {
  details.textContent = `could not list models: ${String(err)}`;
});
setPhase("idle");
//# sourceMappingURL=demo.js.map
