/** Dispatches to the architecture's ONNX step-graph builder. */
import type { SeparationModel } from '../model/model.ts';
import { buildLstmStepGraph } from './lstm-onnx.ts';
import { buildUnetStepGraph } from './unet-onnx.ts';
import type { StepGraph } from './step-graph.ts';

export function buildStepGraph(model: SeparationModel): StepGraph {
  const cfg = model.cfg;
  switch (cfg.arch) {
    case 'lstm':
      return buildLstmStepGraph(model.params, cfg);
    case 'unet':
      return buildUnetStepGraph(model.params, cfg);
  }
}
