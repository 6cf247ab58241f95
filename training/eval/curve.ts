/**
 * npm run curve -- --run runs/<name> [--data data/synth] [--split valid] [--seconds 20] [--out DIR]
 * Quality against training steps: scores every per-epoch snapshot of a run (runs/<name>/snapshots/step-N, written by
 * `npm run train`) on a validation split — mean MDX SDR of vocals and accompaniment through the offline STFT/ISTFT
 * the server uses, and the VAD AUROC — and writes curve.json (scored snapshots are kept, so re-runs only add new
 * ones) and curve.png for the model card.
 */
import { existsSync } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Resvg } from '@resvg/resvg-js';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { initBackend } from '../backend.ts';
import { calibrate } from '../export/calibrate.ts';
import { createModel } from '../model/model.ts';
import { loadCheckpoint } from '../train/checkpoint.ts';

interface CurvePoint {
  step: number;
  vocalsSdr: number;
  accompanimentSdr: number;
  vadAuroc: number | null;
}

async function curvePng(points: CurvePoint[], title: string): Promise<Uint8Array> {
  const values = points.flatMap((p) => [
    { step: p.step, value: p.vocalsSdr, metric: 'vocals MDX SDR (dB)' },
    { step: p.step, value: p.accompanimentSdr, metric: 'accompaniment MDX SDR (dB)' },
    ...(p.vadAuroc !== null ? [{ step: p.step, value: p.vadAuroc, metric: 'VAD AUROC' }] : []),
  ]);
  const spec: TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title,
    background: 'white',
    data: { values },
    facet: { row: { field: 'metric', type: 'nominal', title: null } },
    spec: {
      width: 560,
      height: 140,
      mark: { type: 'line', point: { size: 30 } },
      encoding: {
        x: { field: 'step', type: 'quantitative', title: 'optimizer step' },
        y: { field: 'value', type: 'quantitative', title: null, scale: { zero: false } },
      },
    },
    resolve: { scale: { y: 'independent' } },
  };
  const svg = await new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' }).toSVG();
  return new Resvg(svg, { fitTo: { mode: 'zoom', value: 2 }, font: { loadSystemFonts: true } }).render().asPng();
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      run: { type: 'string' }, data: { type: 'string', default: 'data/synth' }, split: { type: 'string', default: 'valid' },
      seconds: { type: 'string', default: '20' }, out: { type: 'string' },
    },
  });
  if (values.run === undefined) throw new Error('--run runs/<name> is required');
  if (values.split === 'test') throw new Error('score curves on a validation split, never on test');
  await initBackend();
  const out = values.out ?? values.run;
  const jsonPath = join(out, 'curve.json');
  const points: CurvePoint[] = existsSync(jsonPath) ? (JSON.parse(await readFile(jsonPath, 'utf8')) as { points: CurvePoint[] }).points : [];
  const dir = join(values.run, 'snapshots');
  const snapshots = (await readdir(dir)).filter((d) => d.startsWith('step-')).sort();
  for (const name of snapshots) {
    const ckpt = await loadCheckpoint(join(dir, name));
    const step = ckpt.header.progress.step;
    if (points.some((p) => p.step === step)) continue;
    const model = createModel(ckpt.header.config, 0);
    model.params.load(ckpt.params);
    const r = await calibrate(model, values.data, values.split, Number(values.seconds), [1]);
    model.dispose();
    const row = r.table[0]!;
    points.push({ step, vocalsSdr: row.vocalsSdr, accompanimentSdr: row.accompanimentSdr, vadAuroc: r.vadAuroc });
    console.log(`step ${step}: vocals ${row.vocalsSdr.toFixed(2)} dB, accompaniment ${row.accompanimentSdr.toFixed(2)} dB, VAD AUROC ${r.vadAuroc?.toFixed(3) ?? '—'} (${r.tracks} tracks × ${values.seconds} s)`);
  }
  points.sort((a, b) => a.step - b.step);
  const meta = { run: values.run, data: values.data, split: values.split, secondsPerTrack: Number(values.seconds) };
  await writeFile(jsonPath, `${JSON.stringify({ ...meta, points }, null, 1)}\n`);
  await writeFile(join(out, 'curve.png'), await curvePng(points, `${values.run}: validation quality against steps`));
  console.log(`wrote ${jsonPath} and curve.png (${points.length} points)`);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
