/**
 * Minimal fast WAV codec for the generator's hot path (16-bit PCM and 32-bit float, little-endian). Why not
 * server/dsp/wav.ts: it goes through `wavefile`, which costs ~10 µs per sample — 25 s of a 20 s track's
 * generation went there. Files written here are plain RIFF/WAVE that any reader (wavefile, sox, ffmpeg) opens.
 */

export type PcmFormat = 's16' | 'f32';

export function encodePcmWav(channels: readonly Float32Array[], sampleRateHz: number, format: PcmFormat): Buffer {
  const numCh = channels.length;
  const frames = channels[0]?.length ?? 0;
  const bytesPerSample = format === 's16' ? 2 : 4;
  const dataBytes = frames * numCh * bytesPerSample;
  const buf = Buffer.alloc(44 + dataBytes);
  buf.write('RIFF', 0, 'ascii');
  buf.writeUInt32LE(36 + dataBytes, 4);
  buf.write('WAVE', 8, 'ascii');
  buf.write('fmt ', 12, 'ascii');
  buf.writeUInt32LE(16, 16);
  buf.writeUInt16LE(format === 's16' ? 1 : 3, 20);
  buf.writeUInt16LE(numCh, 22);
  buf.writeUInt32LE(sampleRateHz, 24);
  buf.writeUInt32LE(sampleRateHz * numCh * bytesPerSample, 28);
  buf.writeUInt16LE(numCh * bytesPerSample, 32);
  buf.writeUInt16LE(bytesPerSample * 8, 34);
  buf.write('data', 36, 'ascii');
  buf.writeUInt32LE(dataBytes, 40);
  let o = 44;
  for (let i = 0; i < frames; i++) {
    for (let c = 0; c < numCh; c++) {
      const x = channels[c]?.[i] ?? 0;
      if (format === 's16') {
        const v = Math.round(x * 32768);
        buf.writeInt16LE(v > 32767 ? 32767 : v < -32768 ? -32768 : v, o);
        o += 2;
      } else {
        buf.writeFloatLE(x, o);
        o += 4;
      }
    }
  }
  return buf;
}

export function decodePcmWav(bytes: Buffer): { sampleRateHz: number; channels: Float32Array[] } {
  if (bytes.toString('ascii', 0, 4) !== 'RIFF' || bytes.toString('ascii', 8, 12) !== 'WAVE') throw new RangeError('not a RIFF/WAVE file');
  let pos = 12;
  let fmt: { tag: number; channels: number; rate: number; bits: number } | null = null;
  while (pos + 8 <= bytes.length) {
    const id = bytes.toString('ascii', pos, pos + 4);
    let size = bytes.readUInt32LE(pos + 4);
    const body = pos + 8;
    if (id === 'fmt ') {
      let tag = bytes.readUInt16LE(body);
      // WAVE_FORMAT_EXTENSIBLE: the real format is the first two bytes of the sub-format GUID.
      if (tag === 0xfffe && size >= 40) tag = bytes.readUInt16LE(body + 24);
      fmt = { tag, channels: bytes.readUInt16LE(body + 2), rate: bytes.readUInt32LE(body + 4), bits: bytes.readUInt16LE(body + 14) };
    } else if (id === 'data') {
      if (fmt === null) throw new RangeError('WAV data before fmt chunk');
      // Tools streaming to a file may leave the size at 0 or 0xffffffff.
      if (size === 0 || size === 0xffffffff || body + size > bytes.length) size = bytes.length - body;
      const bps = fmt.bits / 8;
      const frames = Math.floor(size / (bps * fmt.channels));
      const channels = Array.from({ length: fmt.channels }, () => new Float32Array(frames));
      let o = body;
      for (let i = 0; i < frames; i++) {
        for (let c = 0; c < fmt.channels; c++) {
          const ch = channels[c] as Float32Array;
          if (fmt.tag === 3 && fmt.bits === 32) ch[i] = bytes.readFloatLE(o);
          else if (fmt.tag === 1 && fmt.bits === 16) ch[i] = bytes.readInt16LE(o) / 32768;
          else throw new RangeError(`unsupported WAV format tag ${fmt.tag} / ${fmt.bits} bits`);
          o += bps;
        }
      }
      return { sampleRateHz: fmt.rate, channels };
    }
    pos = body + size + (size & 1);
  }
  throw new RangeError('WAV file has no data chunk');
}
