/**
 * A session's output as WebSocket messages, in the framing its `start` negotiated (docs/protocol.md §4):
 * - `frames`: one binary frame per requested kind, then the interval's JSON `vad` message;
 * - `bundles`: one binary bundle with every kind and the VAD probabilities; an interval whose VAD holds a
 *   vocal-activity transition is preceded by its JSON `vad` message (so a reader that handles both sees the
 *   transitions first, and the bundle's copy of those probabilities is a duplicate it may skip).
 * Sequence numbers come from the session, so they continue across a resume onto a new socket.
 */
import { encodeAudioFrame, encodeOutputBundle } from '../../../client-sdk/src/protocol/index.ts';
import type { DeliveredOutput, OutputWire } from '../../session/connection.ts';

export type WsMessage = { binary: Uint8Array } | { text: string };

export function encodeWsOutput(out: DeliveredOutput, wire: OutputWire): WsMessage[] {
  const messages: WsMessage[] = [];
  const { vad } = out;
  if (wire.framing === 'frames') {
    for (const s of out.streams) {
      const header = { kind: s.kind, format: wire.format, sequence: wire.nextSequence(), sampleOffset: out.sampleOffset, sampleRateHz: wire.sampleRateHz };
      messages.push({ binary: encodeAudioFrame(header, s.samples) });
    }
    if (vad) messages.push({ text: JSON.stringify(vad) });
    return messages;
  }
  if (vad && vad.transitions.length > 0) messages.push({ text: JSON.stringify(vad) });
  if (out.streams.length > 0 || vad) {
    const bundleVad = vad && { sampleOffset: vad.sampleOffset, hopSamples: vad.hopSamples, probs: vad.probs, active: vad.active };
    messages.push({
      binary: encodeOutputBundle({
        format: wire.format,
        channels: wire.channels,
        sequence: wire.nextSequence(),
        sampleOffset: out.sampleOffset,
        sampleRateHz: wire.sampleRateHz,
        streams: out.streams,
        vad: bundleVad,
      }),
    });
  }
  return messages;
}
