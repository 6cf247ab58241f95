/**
 * Re-exporting a shipped model without its checkpoint: parameters read back from ONNX initializers stored as-is
 * (training/export/onnx-params.ts) come back bit for bit, and a file of another layout is refused; the model card's
 * hand-written sections survive a rewrite (training/export/model-card.ts).
 */
import t from 'tap';
import { parseManifest } from '../server/inference/model-manifest.ts';
import { cardSections, modelCard } from '../training/export/model-card.ts';
import { OnnxGraphBuilder } from '../training/export/onnx-graph.ts';
import { floatInitializers, initializerPrefix, paramsFromInitializers } from '../training/export/onnx-params.ts';
import { smallConfig } from '../training/export/random-model.ts';
import { initBackend } from '../training/backend.ts';
import { createModel } from '../training/model/model.ts';

await initBackend();

/** A file laid out like the first U-Net export: every parameter an initializer named after it, plus other constants. */
function legacyLayoutBytes(params: Record<string, { shape: number[]; data: Float32Array }>): Uint8Array {
  const g = new OnnxGraphBuilder('legacy');
  const x = g.input('x', ['batch', 1]);
  g.floatConst('one', [1], [1], false);
  g.int64Const('pads', [0, 1, 0, 1]);
  for (const [name, v] of Object.entries(params)) g.floatConst(initializerPrefix(name), v.data, v.shape);
  g.output('y', g.op('Identity', [x]), ['batch', 1]);
  return g.toBytes();
}

t.test('paramsFromInitializers recovers every U-Net parameter bit for bit', async (t) => {
  const model = createModel(smallConfig({ arch: 'unet' }), 9);
  const snapshot = model.params.snapshot();
  const shapes = Object.fromEntries(Object.entries(snapshot).map(([k, v]) => [k, v.shape]));
  const recovered = paramsFromInitializers(floatInitializers(legacyLayoutBytes(snapshot)), shapes);
  t.same(Object.keys(recovered).sort(), Object.keys(snapshot).sort(), 'all parameters, buffers included');
  let mismatches = 0;
  for (const [name, v] of Object.entries(snapshot)) {
    const r = recovered[name]!;
    if (r.shape.join('x') !== v.shape.join('x') || r.data.some((x, i) => !Object.is(x, v.data[i]))) mismatches++;
  }
  t.equal(mismatches, 0, 'identical shapes and values');
  model.dispose();
});

t.test('paramsFromInitializers refuses a missing, misshaped or ambiguous parameter', async (t) => {
  const w = { shape: [2, 3], data: new Float32Array(6) };
  const bytes = floatInitializers(legacyLayoutBytes({ 'enc0.pw': w, 'enc0.b': { shape: [3], data: new Float32Array(3) } }));
  t.throws(() => paramsFromInitializers(bytes, { 'enc1.pw': [2, 3] }), /0 initializers match/);
  t.throws(() => paramsFromInitializers(bytes, { 'enc0.pw': [3, 2] }), /has shape \[2,3\], expected \[3,2\]/);
  const twice = new Map([...bytes, ['enc0_pw_99', w]]);
  t.throws(() => paramsFromInitializers(twice, { 'enc0.pw': [2, 3] }), /2 initializers match/);
});

t.test('cardSections: rewriting a card from its own sections reproduces it', async (t) => {
  const manifest = parseManifest({
    schemaVersion: 1,
    name: 'unet',
    arch: 'unet',
    description: 'test card',
    sampleRateHz: 44100,
    channels: 2,
    stft: { nFft: 1024, hopSamples: 256, window: 'sqrt-hann' },
    bins: 513,
    latencySamples: 768,
    vadThreshold: 0.5,
    io: {
      input: { name: 'mag', shape: ['batch', 2, 513] },
      mask: { name: 'mask', shape: ['batch', 2, 513] },
      vad: { name: 'vad', shape: ['batch', 1] },
      state: [{ input: 'ctx_in', output: 'ctx_out', shape: ['batch', 2, 15, 368] }],
    },
    parameters: 10,
    macsPerFrame: 100,
    training: { config: { contextFrames: 16, cropBins: 368, encoderChannels: [8, 16, 24], asppDilations: [1, 2, 4] } },
  });
  const card = modelCard({ manifest, evalMarkdown: '# Evaluation: unet\n\n| a | b |\n|---|---|\n| 1 | 2 |\n', notes: 'Undertrained.\n\n## Speed\n\n137 µs.' });
  const sections = cardSections(card);
  t.match(sections.notes, /^Undertrained\.[\s\S]*137 µs\.$/, 'notes up to the end, sub-headings included');
  t.equal(modelCard({ manifest, ...sections }), card);
  const bare = modelCard({ manifest });
  t.same(cardSections(bare), {}, 'a card with neither section gives none back');
});
