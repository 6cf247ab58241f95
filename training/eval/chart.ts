/**
 * Bar chart of the median BSS-Eval SDR per method and source, as PNG: vega-lite spec → vega SVG (headless, no
 * canvas) → resvg raster.
 */
import { Resvg } from '@resvg/resvg-js';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import type { EvalReport } from './report.ts';

export async function sdrChartSvg(report: EvalReport): Promise<string> {
  const values: { method: string; source: string; sdr: number }[] = [];
  for (const method of report.methods) {
    const a = report.aggregate[method];
    if (a === undefined) continue;
    if (a.vocals.SDR !== null) values.push({ method, source: 'vocals', sdr: a.vocals.SDR });
    if (a.accompaniment.SDR !== null) values.push({ method, source: 'accompaniment', sdr: a.accompaniment.SDR });
  }
  const spec: TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: { text: `SDR per method — ${report.model}`, subtitle: `${report.tracks.length} tracks of ${report.data} (BSS-Eval v4, median)` },
    width: { step: 36 },
    height: 320,
    background: 'white',
    data: { values },
    mark: { type: 'bar' },
    encoding: {
      x: { field: 'method', type: 'nominal', sort: report.methods, title: null, axis: { labelAngle: -20 } },
      xOffset: { field: 'source', type: 'nominal', sort: ['vocals', 'accompaniment'] },
      y: { field: 'sdr', type: 'quantitative', title: 'SDR (dB)' },
      color: { field: 'source', type: 'nominal', sort: ['vocals', 'accompaniment'], title: null },
      tooltip: [{ field: 'sdr', type: 'quantitative', format: '.2f' }],
    },
  };
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  return view.toSVG();
}

export async function sdrChartPng(report: EvalReport): Promise<Uint8Array> {
  const svg = await sdrChartSvg(report);
  return new Resvg(svg, { fitTo: { mode: 'zoom', value: 2 }, font: { loadSystemFonts: true } }).render().asPng();
}
