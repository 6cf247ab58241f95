/**
 * models/<id>/README.md: what the model is, what it costs, how it was trained and how it scores (the eval's own
 * Markdown table, streaming path, next to its baselines), written from the manifest so the numbers cannot drift.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ModelManifest } from '../../server/inference/model-manifest.ts';

const EVAL_HEADING = '## Evaluation (streaming engine, synthetic test set)';
const NOTES_HEADING = '## Where it stands';

export interface ModelCardInput {
  manifest: ModelManifest;
  /** The eval's Markdown (scores.md), or undefined when the model has not been evaluated yet. */
  evalMarkdown?: string;
  /** Free text: where the model stands, what limits it. */
  notes?: string;
}

function fmt(n: unknown, digits = 4): string {
  return typeof n === 'number' && Number.isFinite(n) ? n.toFixed(digits) : String(n ?? '—');
}

/** The eval's summary (its per-track section stays in results/), headings demoted under this card's. */
function evalSummary(markdown: string | undefined): string | undefined {
  if (markdown === undefined) return undefined;
  const cut = markdown.indexOf('## Per track');
  return (cut >= 0 ? markdown.slice(0, cut) : markdown).trim().replace(/^# /gm, '### ');
}

export function modelCard({ manifest: m, evalMarkdown, notes }: ModelCardInput): string {
  const t = m.training as Record<string, unknown>;
  const cfg = (t['config'] ?? {}) as Record<string, unknown>;
  const latencyMs = (1000 * m.latencySamples) / m.sampleRateHz;
  const arch =
    m.arch === 'lstm'
      ? `causal Open-Unmix: STFT magnitude → crop to ${String(cfg['cropBins'])} bins (≈16 kHz) → per-bin standardisation → fc + BN + tanh → ${String(cfg['layers'])} unidirectional LSTM layers (H = ${String(cfg['hiddenSize'])}) → skip → fc + BN + relu → fc + BN → sigmoid mask over all ${m.bins} bins; VAD = ${Number(cfg['vadHidden'] ?? 0) > 0 ? `sigmoid(linear(relu(linear([fc1 output, LSTM output]) → ${String(cfg['vadHidden'])})))` : 'sigmoid(linear(LSTM output))'} per frame`
      : `short-context U-Net over the last ${String(cfg['contextFrames'])} frames of log(1 + |X|) (${String(cfg['cropBins'])} bins): depthwise-separable encoder (${String((cfg['encoderChannels'] as number[] | undefined)?.join('/'))} channels), ASPP bottleneck (dilations ${String((cfg['asppDilations'] as number[] | undefined)?.join('/'))}), light decoder for the newest frame, sigmoid mask; VAD = F×c filter over the last decoder map`;
  const lines = [
    `# ${m.name}`,
    '',
    m.description,
    '',
    '| | |',
    '|---|---|',
    `| architecture | ${arch} |`,
    `| parameters | ${m.parameters.toLocaleString('en-US')} |`,
    `| MACs per frame | ${Math.round(m.macsPerFrame).toLocaleString('en-US')} (${((m.macsPerFrame * m.sampleRateHz) / m.stft.hopSamples / 1e6).toFixed(1)} M MAC/s of audio) |`,
    `| STFT | ${m.stft.nFft} / hop ${m.stft.hopSamples}, ${m.stft.window}, ${m.sampleRateHz} Hz, stereo |`,
    `| algorithmic latency | ${m.latencySamples} samples = ${latencyMs.toFixed(1)} ms (causal: no future frames) |`,
    `| streaming state | ${m.io.state.map((s) => `${s.input} [${s.shape.join(', ')}]`).join(', ')} |`,
    `| VAD threshold | ${m.vadThreshold} |`,
    `| git commit | ${m.gitCommit} |`,
    '',
    '## Training',
    '',
    `Data: \`${String(t['data'])}\` (synthetic multitrack songs, training/data/synth). Loss: ${String(t['loss'])} ` +
      `(α·L_sep + (1−α)·L_vad, vad weight ${String(t['vadWeight'])}). Batch ${String(t['batchSize'])} × ${String(t['seqDurSeconds'])} s excerpts.`,
    '',
    `| steps | epochs | wall time | steps/s | final lr | best valid loss |`,
    `|---|---|---|---|---|---|`,
    `| ${String(t['steps'])} | ${String(t['epochs'])} | ${(Number(t['wallTimeSec']) / 60).toFixed(0)} min | ${fmt(Number(t['steps']) / Number(t['wallTimeSec']), 3)} | ${String(t['lr'])} | ${fmt(t['bestValidLoss'])} |`,
    '',
    `Backend: ${String(t['backend'] ?? 'tfjs wasm (one core)')}. Resume with \`npm run train -- --resume --out runs/<name>\` after copying \`checkpoint/\` to \`runs/<name>/checkpoint/\`.`,
    '',
    EVAL_HEADING,
    '',
    evalSummary(evalMarkdown) ?? '_Not evaluated yet: run `npm run eval -- --model ' + m.name + '`._',
    '',
  ];
  if (notes !== undefined) lines.push(NOTES_HEADING, '', notes.trim(), '');
  return lines.join('\n');
}

export async function writeModelCard(dir: string, input: ModelCardInput): Promise<void> {
  await writeFile(join(dir, 'README.md'), modelCard(input));
}

/**
 * The hand-written parts of an existing card (the eval summary and the notes), so a re-export that rewrites the
 * generated parts keeps them: modelCard({ manifest, ...cardSections(card) }) reproduces `card` for the same manifest.
 */
export function cardSections(markdown: string): Omit<ModelCardInput, 'manifest'> {
  const out: Omit<ModelCardInput, 'manifest'> = {};
  const evalStart = markdown.indexOf(`${EVAL_HEADING}\n`);
  const notesStart = markdown.indexOf(`${NOTES_HEADING}\n`);
  if (evalStart >= 0) {
    const body = markdown.slice(evalStart + EVAL_HEADING.length, notesStart > evalStart ? notesStart : undefined).trim();
    if (body !== '' && !body.startsWith('_Not evaluated yet')) out.evalMarkdown = body;
  }
  if (notesStart >= 0) out.notes = markdown.slice(notesStart + NOTES_HEADING.length).trim();
  return out;
}
