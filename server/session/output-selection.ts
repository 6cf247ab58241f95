/**
 * The kinds a client asked for, made from the engine's two stems: vocals, accompaniment, and karaoke =
 * accompaniment + vocalGain · vocals. Read when a span is delivered, so a `configure` applies from the first sample
 * not yet delivered, without a round trip to the engine. Pure.
 */
import type { OutputKind } from '../../client-sdk/src/protocol/index.ts';
import type { EngineOutput } from '../engine/engine-protocol.ts';
import type { DeliveredOutput } from './connection.ts';

export interface OutputConfig {
  outputs: OutputKind[];
  vocalGain: number;
}

export class OutputSelection {
  private outputs: OutputKind[];
  private gain: number;

  constructor(config: OutputConfig) {
    this.outputs = [...config.outputs];
    this.gain = config.vocalGain;
  }

  get config(): OutputConfig {
    return { outputs: [...this.outputs], vocalGain: this.gain };
  }

  configure(change: { outputs?: OutputKind[] | undefined; vocalGain?: number | undefined }): void {
    if (change.outputs) this.outputs = [...change.outputs];
    if (change.vocalGain !== undefined) this.gain = change.vocalGain;
  }

  select(out: EngineOutput): DeliveredOutput {
    const streams =
      out.sampleCount === 0
        ? []
        : this.outputs.map((kind) => ({
            kind,
            samples: kind === 'vocals' ? out.vocals : kind === 'accompaniment' ? out.accompaniment : karaoke(out.vocals, out.accompaniment, this.gain),
          }));
    return { sampleOffset: out.sampleOffset, sampleCount: out.sampleCount, streams, vad: out.vad };
  }
}

function karaoke(vocals: Float32Array[], accompaniment: Float32Array[], gain: number): Float32Array[] {
  return accompaniment.map((a, c) => {
    const v = vocals[c]!;
    const out = new Float32Array(a.length);
    for (let i = 0; i < a.length; i++) out[i] = a[i]! + gain * v[i]!;
    return out;
  });
}
