/**
 * Runs an exported step graph frame by frame in onnxruntime-node with the state carried between calls — the way
 * the server uses it. Shared by the exporter (self-check, golden vectors) and the parity tests.
 */
import * as ort from 'onnxruntime-node';
import type { ModelManifest } from '../../server/inference/model-manifest.ts';

export interface StepRun {
  /** Per frame: mask [batch·2·bins], vad [batch]. */
  mask: Float32Array[];
  vad: Float32Array[];
  /** State outputs after the last frame, by output name. */
  finalState: Record<string, Float32Array>;
}

function concrete(shape: (number | 'batch')[], batch: number): number[] {
  return shape.map((d) => (d === 'batch' ? batch : d));
}

export async function createStepSession(onnxBytes: Uint8Array): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(onnxBytes, { intraOpNumThreads: 1, interOpNumThreads: 1 });
}

/** `frames[t]` is the magnitude input of frame t, [batch, 2, bins] flattened. States start at zeros. */
export async function runSteps(
  session: ort.InferenceSession,
  io: ModelManifest['io'],
  frames: Float32Array[],
  batch: number,
): Promise<StepRun> {
  const state = new Map<string, ort.Tensor>();
  for (const s of io.state) {
    const dims = concrete(s.shape, batch);
    state.set(s.input, new ort.Tensor('float32', new Float32Array(dims.reduce((a, b) => a * b, 1)), dims));
  }
  const inputDims = concrete(io.input.shape, batch);
  const result: StepRun = { mask: [], vad: [], finalState: {} };
  for (const frame of frames) {
    const feeds: Record<string, ort.Tensor> = { [io.input.name]: new ort.Tensor('float32', frame, inputDims) };
    for (const [name, t] of state) feeds[name] = t;
    const out = await session.run(feeds);
    result.mask.push(Float32Array.from(out[io.mask.name]!.data as Float32Array));
    result.vad.push(Float32Array.from(out[io.vad.name]!.data as Float32Array));
    for (const s of io.state) state.set(s.input, out[s.output]!);
  }
  for (const s of io.state) result.finalState[s.output] = Float32Array.from(state.get(s.input)!.data as Float32Array);
  return result;
}
