/**
 * PNG plots of a load report: vega-lite spec → vega SVG (headless, no canvas) → PNG via resvg.
 * Specs are built by pure functions so they can be inspected in tests; rendering is the only I/O-free async step.
 */
import { Resvg } from '@resvg/resvg-js';
import * as vega from 'vega';
import * as vegaLite from 'vega-lite';
import type { TopLevelSpec } from 'vega-lite';
import type { CdfPoint } from './stats/percentiles.ts';

const FONT = 'DejaVu Sans';

export interface CdfSeries {
  label: string;
  points: CdfPoint[];
}

export interface CapacityPoint {
  streams: number;
  p50Ms: number;
  p99Ms: number;
  p999Ms: number;
  pass: boolean;
}

const baseConfig = {
  font: FONT,
  background: 'white',
  axis: { labelFontSize: 11, titleFontSize: 12, gridColor: '#e4e4e4' },
  legend: { labelFontSize: 11, titleFontSize: 12 },
  title: { fontSize: 14 },
} as const;

/** Latency CDF per step (one line per N); x on a log scale so the tail and the body are both readable. */
export function latencyCdfSpec(series: CdfSeries[], title: string, sloMs: number | null): TopLevelSpec {
  const values = series.flatMap((s) => s.points.map((p) => ({ series: s.label, latencyMs: Math.max(p.latencyMs, 0.1), fraction: p.fraction })));
  const layers: NonNullable<Extract<TopLevelSpec, { layer: unknown }>['layer']> = [
    {
      data: { values },
      mark: { type: 'line', interpolate: 'step-after', strokeWidth: 1.8 },
      encoding: {
        x: { field: 'latencyMs', type: 'quantitative', scale: { type: 'log' }, title: 'end-to-end latency per output hop (ms, log)' },
        y: { field: 'fraction', type: 'quantitative', title: 'fraction of hops ≤ x', scale: { domain: [0, 1] } },
        color: { field: 'series', type: 'nominal', title: 'streams', sort: null },
      },
    },
  ];
  if (sloMs !== null) {
    layers.push({
      data: { values: [{ sloMs }] },
      mark: { type: 'rule', color: '#c0392b', strokeDash: [6, 4] },
      encoding: { x: { field: 'sloMs', type: 'quantitative' } },
    });
  }
  return { $schema: 'https://vega.github.io/schema/vega-lite/v6.json', title, width: 640, height: 360, config: baseConfig, layer: layers };
}

/** Capacity curve: p50/p99/p99.9 e2e vs concurrent streams, SLO as a dashed rule, failing steps marked. */
export function capacitySpec(points: CapacityPoint[], title: string, sloMs: number | null): TopLevelSpec {
  const values = points.flatMap((p) => [
    { streams: p.streams, stat: 'p50', latencyMs: p.p50Ms, verdict: p.pass ? 'pass' : 'fail' },
    { streams: p.streams, stat: 'p99', latencyMs: p.p99Ms, verdict: p.pass ? 'pass' : 'fail' },
    { streams: p.streams, stat: 'p99.9', latencyMs: p.p999Ms, verdict: p.pass ? 'pass' : 'fail' },
  ]);
  const layers: NonNullable<Extract<TopLevelSpec, { layer: unknown }>['layer']> = [
    {
      data: { values },
      mark: { type: 'line', point: { filled: true, size: 50 } },
      encoding: {
        x: { field: 'streams', type: 'quantitative', title: 'concurrent streams', axis: { format: 'd', tickMinStep: 1 } },
        y: { field: 'latencyMs', type: 'quantitative', title: 'end-to-end latency (ms)' },
        color: { field: 'stat', type: 'nominal', title: 'percentile', sort: ['p50', 'p99', 'p99.9'] },
        shape: { field: 'verdict', type: 'nominal', title: 'SLO', scale: { domain: ['pass', 'fail'], range: ['circle', 'cross'] } },
      },
    },
  ];
  if (sloMs !== null) {
    layers.push({
      data: { values: [{ sloMs }] },
      mark: { type: 'rule', color: '#c0392b', strokeDash: [6, 4] },
      encoding: { y: { field: 'sloMs', type: 'quantitative' } },
    });
  }
  return { $schema: 'https://vega.github.io/schema/vega-lite/v6.json', title, width: 640, height: 360, config: baseConfig, layer: layers };
}

export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const compiled = vegaLite.compile(spec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

export async function renderPng(spec: TopLevelSpec, scale = 2): Promise<Uint8Array> {
  const svg = await renderSvg(spec);
  const resvg = new Resvg(svg, {
    fitTo: { mode: 'zoom', value: scale },
    font: { loadSystemFonts: true, defaultFontFamily: FONT },
    background: 'white',
  });
  return resvg.render().asPng();
}
