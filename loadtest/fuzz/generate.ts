/**
 * Case index → case, deterministically: the category is drawn from the case's own seeded generator with fixed
 * weights, so `--seed S` always produces the same sequence of cases (and the same case at index i) whatever the
 * concurrency, timing or earlier outcomes.
 */
import type { Category, FuzzCase, Phase } from './cases.ts';
import { httpBodyCase, httpTargetCase, sdpHttpCase, upgradeTargetCase, type GenContext } from './http-cases.ts';
import { caseSeed, Rng } from './rng.ts';
import { authCase, binaryCase, jsonInvalidCase, resumeCase, sampleValuesCase, schemaCase } from './ws-cases.ts';
import { abruptCase, floodCase, floodNoReadCase, oversizeCase, sdpWsCase, slowReaderCase, wsFramesCase } from './ws-hostile-cases.ts';

/** Relative frequency of each category (per case, not per message: floods carry hundreds of messages each). */
export const CATEGORY_WEIGHTS: Readonly<Record<Category, number>> = {
  'http-target': 14,
  'http-body': 6,
  'upgrade-target': 8,
  'json-invalid': 8,
  schema: 20,
  binary: 10,
  'sample-values': 3,
  oversize: 1.2,
  'ws-frames': 6,
  flood: 2,
  'flood-noread': 0.4,
  'slow-reader': 0.8,
  abrupt: 6,
  auth: 8,
  resume: 4,
  'sdp-http': 2.5,
  'sdp-ws': 2.5,
};

const MAKERS: Readonly<Record<Category, (ctx: GenContext) => FuzzCase>> = {
  'http-target': httpTargetCase,
  'http-body': httpBodyCase,
  'upgrade-target': upgradeTargetCase,
  'json-invalid': jsonInvalidCase,
  schema: schemaCase,
  binary: binaryCase,
  'sample-values': sampleValuesCase,
  oversize: oversizeCase,
  'ws-frames': wsFramesCase,
  flood: floodCase,
  'flood-noread': floodNoReadCase,
  'slow-reader': slowReaderCase,
  abrupt: abruptCase,
  auth: authCase,
  resume: resumeCase,
  'sdp-http': sdpHttpCase,
  'sdp-ws': sdpWsCase,
};

const TABLE = Object.entries(CATEGORY_WEIGHTS).map(([c, w]) => [c as Category, w] as const);

export interface GenOptions {
  seed: number;
  phase: Phase;
  maxMessageBytes: number;
  apiKey: string;
  goodOrigin: string;
  originsEnforced: boolean;
  /** Only these categories (tests, triage); default all. */
  only?: readonly Category[] | undefined;
}

export function generateCase(index: number, o: GenOptions): FuzzCase {
  const rng = new Rng(caseSeed(o.seed, index));
  const table = o.only ? TABLE.filter(([c]) => o.only!.includes(c)) : TABLE;
  const category = rng.weighted(table);
  return MAKERS[category]({ rng, index, phase: o.phase, maxMessageBytes: o.maxMessageBytes, apiKey: o.apiKey, goodOrigin: o.goodOrigin, originsEnforced: o.originsEnforced });
}

/** The key a crash quarantines: the same category and variant would crash the server again. */
export function variantKey(c: FuzzCase): string {
  return `${c.category}/${c.variant}`;
}
