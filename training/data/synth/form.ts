/**
 * Song forms: the sequence of sections and their lengths in bars. v1's single template is frozen (see render-v1);
 * v2 adds templates with long instrumental intros, breaks and endings, so a model sees long stretches of music
 * with no voice in every track and learns to switch its VAD off.
 */
import type { Rng } from './rng.ts';
import type { SectionKind } from './song.ts';

export interface FormEntry {
  kind: SectionKind;
  bars: number;
}

function fill(template: readonly FormEntry[], totalBars: number): FormEntry[] {
  const form: FormEntry[] = [];
  let used = 0;
  for (let i = 0; used < totalBars; i++) {
    const s = template[i % template.length] ?? { kind: 'instrumental', bars: 4 };
    const bars = Math.min(s.bars, totalBars - used);
    form.push({ kind: s.kind, bars });
    used += bars;
  }
  return form;
}

/** v1: frozen. */
export function planFormV1(totalBars: number, rng: Rng): FormEntry[] {
  const verseBars = rng.pick([4, 8, 8]);
  const chorusBars = rng.pick([4, 8, 8]);
  const template: FormEntry[] = [
    { kind: 'intro', bars: Math.min(rng.pick([2, 4, 4]), Math.max(1, Math.round(totalBars * 0.2))) },
    { kind: 'verse', bars: verseBars },
    { kind: 'chorus', bars: chorusBars },
    { kind: 'instrumental', bars: rng.pick([4, 8]) },
    { kind: 'verse', bars: verseBars },
    { kind: 'chorus', bars: chorusBars },
    { kind: 'bridge', bars: 4 },
    { kind: 'instrumental', bars: 4 },
    { kind: 'chorus', bars: chorusBars },
    { kind: 'outro', bars: 4 },
  ];
  if (rng.chance(0.3)) template.splice(3, 1);
  return fill(template, totalBars);
}

/**
 * v2: one of several templates; intros up to 16 bars (at most 40 % of the song), instrumental breaks of 4–16 bars
 * and, in a third of the songs, an instrumental ending that is reached however short the track is.
 */
export function planFormV2(totalBars: number, rng: Rng): FormEntry[] {
  const v = rng.pick([4, 8, 8, 16]);
  const c = rng.pick([4, 8, 8]);
  const brk = (): FormEntry => ({ kind: rng.chance(0.5) ? 'break' : 'instrumental', bars: rng.pick([4, 8, 8, 16]) });
  const templates: FormEntry[][] = [
    [{ kind: 'verse', bars: v }, { kind: 'chorus', bars: c }, { kind: 'verse', bars: v }, { kind: 'chorus', bars: c }, brk(), { kind: 'chorus', bars: c }, { kind: 'outro', bars: 8 }],
    [{ kind: 'verse', bars: v }, { kind: 'chorus', bars: c }, brk(), { kind: 'verse', bars: v }, { kind: 'chorus', bars: c }, { kind: 'bridge', bars: 4 }, { kind: 'chorus', bars: c }, brk()],
    [{ kind: 'instrumental', bars: 8 }, { kind: 'verse', bars: v }, { kind: 'chorus', bars: c }, brk(), { kind: 'chorus', bars: c }, { kind: 'outro', bars: 8 }],
    [{ kind: 'verse', bars: v }, { kind: 'verse', bars: v }, { kind: 'chorus', bars: c }, { kind: 'bridge', bars: 8 }, { kind: 'chorus', bars: c }, brk()],
  ];
  const body = rng.pick(templates);
  const introBars = Math.max(1, Math.min(rng.pick([1, 2, 4, 4, 8, 8, 16]), Math.round(totalBars * 0.4)));
  const endingBars = rng.chance(0.35) ? Math.max(1, Math.min(rng.pick([2, 4, 8]), Math.round(totalBars * 0.25))) : 0;
  const middle = fill(body, Math.max(1, totalBars - introBars - endingBars));
  const form = [{ kind: 'intro' as const, bars: introBars }, ...middle];
  if (endingBars > 0) form.push({ kind: 'outro', bars: endingBars });
  // A short track can end before the body's first verse: sing its longest middle section instead.
  if (!form.some((f) => f.kind === 'verse' || f.kind === 'chorus')) {
    const longest = middle.reduce((a, b) => (b.bars > a.bars ? b : a), middle[0] ?? { kind: 'verse', bars: 0 });
    longest.kind = 'verse';
  }
  return form.filter((f) => f.bars > 0);
}
