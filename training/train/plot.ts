/**
 * Loss curves as a PNG: a vega-lite spec rendered to SVG by vega (headless, no canvas), rasterised by resvg.
 */
import { writeFile } from 'node:fs/promises';
import { Resvg } from '@resvg/resvg-js';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import type { EpochRecord } from './checkpoint.ts';

export async function lossPlotSvg(history: EpochRecord[], stepLosses: [number, number][], title: string): Promise<string> {
  const values: { step: number; loss: number; series: string }[] = [];
  for (const [step, loss] of stepLosses) values.push({ step, loss, series: 'train (per step)' });
  for (const r of history) {
    values.push({ step: r.step, loss: r.trainLoss, series: 'train (epoch mean)' });
    if (Number.isFinite(r.validLoss)) values.push({ step: r.step, loss: r.validLoss, series: 'valid' });
  }
  const spec: TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title,
    width: 640,
    height: 360,
    background: 'white',
    data: { values },
    mark: { type: 'line', point: { size: 20 } },
    encoding: {
      x: { field: 'step', type: 'quantitative', title: 'optimizer step' },
      y: { field: 'loss', type: 'quantitative', title: 'loss (α·L_sep + (1−α)·L_vad)', scale: { type: 'log' } },
      color: { field: 'series', type: 'nominal', title: null },
      opacity: { condition: { test: "datum.series === 'train (per step)'", value: 0.35 }, value: 1 },
    },
  };
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  return view.toSVG();
}

export async function writeLossPlot(path: string, history: EpochRecord[], stepLosses: [number, number][], title: string): Promise<void> {
  const svg = await lossPlotSvg(history, stepLosses, title);
  const png = new Resvg(svg, { fitTo: { mode: 'zoom', value: 2 }, font: { loadSystemFonts: true } }).render().asPng();
  await writeFile(path, png);
}
