/**
 * One ONNX Runtime InferenceSession per model, stepping a batch of streams per call. Inputs and state are gathered
 * into preallocated buffers along the manifest's "batch" axes; state outputs are scattered back into each stream's
 * RecurrentState. One run at a time per runtime (the batcher serialises runs); ORT's `run` is async, so the event
 * loop keeps serving sockets while the model computes.
 */
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { LivestemError } from '../errors.ts';
import type { ModelManifest } from './model-manifest.ts';
import { batchLayout, concreteDims, gather, scatter, sliceItem, RecurrentState, type BatchLayout } from './recurrent-state.ts';
import type { FrameOutput } from './frame-model.ts';

export type ExecutionProvider = 'cpu' | 'cuda';

export interface ModelRuntimeOptions {
  /** `auto` tries CUDA and falls back to CPU. */
  provider: ExecutionProvider | 'auto';
  intraOpThreads: number;
}

export interface BatchItem {
  features: Float32Array;
  state: RecurrentState;
}

export class ModelRuntime {
  readonly manifest: ModelManifest;
  readonly provider: ExecutionProvider;
  /** Why `auto` fell back to CPU (logged by the composition root), if it did. */
  fallbackReason: string | undefined;
  private readonly session: ort.InferenceSession;
  private readonly inputLayout: BatchLayout;
  private readonly maskLayout: BatchLayout;
  private readonly vadLayout: BatchLayout;
  private readonly stateLayouts: BatchLayout[];
  private inputBuffer = new Float32Array(0);
  private stateBuffers: Float32Array[];
  private running = false;

  private constructor(manifest: ModelManifest, session: ort.InferenceSession, provider: ExecutionProvider) {
    this.manifest = manifest;
    this.session = session;
    this.provider = provider;
    this.fallbackReason = undefined;
    this.inputLayout = batchLayout(manifest.io.input.shape);
    this.maskLayout = batchLayout(manifest.io.mask.shape);
    this.vadLayout = batchLayout(manifest.io.vad.shape);
    this.stateLayouts = manifest.io.state.map((s) => batchLayout(s.shape));
    this.stateBuffers = manifest.io.state.map(() => new Float32Array(0));
    const perItem = manifest.channels * manifest.bins;
    if (this.inputLayout.perItem !== perItem || this.maskLayout.perItem !== perItem) {
      throw new LivestemError('LIVESTEM_ERR_INTERNAL', `model ${manifest.name}: input/mask shapes do not hold channels × bins`);
    }
    if (this.vadLayout.perItem !== 1) throw new LivestemError('LIVESTEM_ERR_INTERNAL', `model ${manifest.name}: vad must be one value per item`);
  }

  static async load(modelDir: string, manifest: ModelManifest, options: ModelRuntimeOptions): Promise<ModelRuntime> {
    const path = join(modelDir, manifest.onnx);
    const create = (provider: ExecutionProvider): Promise<ort.InferenceSession> =>
      ort.InferenceSession.create(path, {
        executionProviders: [provider],
        intraOpNumThreads: options.intraOpThreads,
        interOpNumThreads: 1,
        graphOptimizationLevel: 'all',
      });
    if (options.provider === 'auto') {
      try {
        return new ModelRuntime(manifest, await create('cuda'), 'cuda');
      } catch (err) {
        // CUDA unavailable (no GPU or CPU-only onnxruntime build): CPU is the documented fallback for `auto`.
        const runtime = new ModelRuntime(manifest, await create('cpu'), 'cpu');
        runtime.fallbackReason = (err as Error).message;
        return runtime;
      }
    }
    if (options.provider === 'cuda') {
      try {
        return new ModelRuntime(manifest, await create('cuda'), 'cuda');
      } catch (err) {
        throw new Error(
          `CUDA execution provider unavailable for model ${manifest.name} (${(err as Error).message}); it needs a GPU, ` +
            `CUDA 12 + cuDNN 9 and onnxruntime-node installed with ONNXRUNTIME_NODE_INSTALL=cuda12 — or use --provider auto/cpu`,
          { cause: err },
        );
      }
    }
    return new ModelRuntime(manifest, await create(options.provider), options.provider);
  }

  createState(): RecurrentState {
    return new RecurrentState(this.manifest.io);
  }

  private ensureCapacity(batch: number): void {
    if (this.inputBuffer.length >= batch * this.inputLayout.perItem) return;
    const capacity = Math.max(batch, 2 * (this.inputBuffer.length / this.inputLayout.perItem));
    this.inputBuffer = new Float32Array(capacity * this.inputLayout.perItem);
    this.stateBuffers = this.stateLayouts.map((l) => new Float32Array(capacity * l.perItem));
  }

  /**
   * Steps every item one frame; updates each item's state in place. Outputs are views valid until the next run.
   * Batches above the manifest's maxBatchPerRun run as consecutive ORT calls (items are independent streams).
   */
  async run(items: readonly BatchItem[]): Promise<FrameOutput[]> {
    if (this.running) throw new Error('ModelRuntime.run is not re-entrant');
    if (items.length === 0) return [];
    this.running = true;
    try {
      const limit = this.manifest.maxBatchPerRun ?? items.length;
      if (items.length <= limit) return await this.runOnce(items);
      const outputs: FrameOutput[] = [];
      for (let start = 0; start < items.length; start += limit) outputs.push(...(await this.runOnce(items.slice(start, start + limit))));
      return outputs;
    } finally {
      this.running = false;
    }
  }

  /** One ORT call. Its outputs are views into that call's own output tensors, so a later call leaves them intact. */
  private async runOnce(items: readonly BatchItem[]): Promise<FrameOutput[]> {
    const batch = items.length;
    this.ensureCapacity(batch);
    const { io } = this.manifest;
    const feeds: Record<string, ort.Tensor> = {
      [io.input.name]: new ort.Tensor(
        'float32',
        gather(this.inputLayout, items.map((i) => i.features), this.inputBuffer),
        concreteDims(io.input.shape, batch),
      ),
    };
    io.state.forEach((s, i) => {
      const data = gather(this.stateLayouts[i]!, items.map((it) => it.state.values[i]!), this.stateBuffers[i]!);
      feeds[s.input] = new ort.Tensor('float32', data, concreteDims(s.shape, batch));
    });
    let out: ort.InferenceSession.OnnxValueMapType;
    try {
      out = await this.session.run(feeds);
    } catch (err) {
      throw new LivestemError('LIVESTEM_ERR_INFERENCE_FAILED', `model ${this.manifest.name}: ${(err as Error).message}`, { cause: err });
    }
    io.state.forEach((s, i) => {
      scatter(this.stateLayouts[i]!, out[s.output]!.data as Float32Array, items.map((it) => it.state.values[i]!));
    });
    const mask = out[io.mask.name]!.data as Float32Array;
    const vad = out[io.vad.name]!.data as Float32Array;
    return items.map((_, b) => ({
      mask: sliceItem(this.maskLayout, mask, batch, b),
      vadProb: sliceItem(this.vadLayout, vad, batch, b)[0]!,
    }));
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}
