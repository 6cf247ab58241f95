/**
 * Lyrics: short English lines of one-syllable words (one word per sung note), plus a rough spelling-to-phoneme
 * split that the formant synthesiser uses for its consonants and vowels.
 */
import type { Rng } from './rng.ts';

const PRONOUNS = ['I', 'you', 'we', 'they', 'she', 'he'] as const;
const VERBS = ['love', 'hold', 'feel', 'see', 'need', 'know', 'find', 'call', 'fly', 'run', 'burn', 'fall', 'rise',
  'shine', 'dance', 'sing', 'dream', 'wait', 'stay', 'chase', 'lose', 'keep', 'touch', 'breathe', 'cry'] as const;
const DETERMINERS = ['the', 'my', 'your', 'our', 'this', 'that'] as const;
const NOUNS = ['heart', 'night', 'light', 'fire', 'rain', 'home', 'road', 'sky', 'sea', 'sun', 'moon', 'star', 'soul',
  'song', 'wind', 'time', 'world', 'dream', 'voice', 'hand', 'eyes', 'town', 'day', 'storm', 'gold', 'smoke',
  'stone', 'wave', 'flame', 'door', 'street', 'kiss', 'sound', 'ghost', 'rose', 'glass', 'skin', 'sign'] as const;
const ADJECTIVES = ['blue', 'cold', 'dark', 'bright', 'wild', 'slow', 'sweet', 'lost', 'free', 'long', 'true', 'deep',
  'high', 'still', 'soft', 'strange', 'new', 'old'] as const;
const FILLERS = ['oh', 'yeah', 'now', 'so', 'and', 'all', 'just', 'no', 'ah', 'la'] as const;
const PREPOSITIONS = ['in', 'through', 'on', 'to', 'from', 'for', 'like'] as const;

type Slot = 'P' | 'V' | 'D' | 'N' | 'A' | 'F' | 'R';
const LINE_SHAPES: readonly (readonly Slot[])[] = [
  ['P', 'V', 'D', 'N'],
  ['P', 'V', 'D', 'A', 'N'],
  ['F', 'P', 'V', 'R', 'D', 'N'],
  ['D', 'A', 'N', 'F'],
  ['P', 'V', 'R', 'D', 'A', 'N'],
  ['V', 'D', 'N', 'R', 'D', 'N'],
  ['F', 'F', 'P', 'V'],
  ['A', 'N', 'A', 'N'],
];

function wordFor(slot: Slot, rng: Rng): string {
  switch (slot) {
    case 'P': return rng.pick(PRONOUNS);
    case 'V': return rng.pick(VERBS);
    case 'D': return rng.pick(DETERMINERS);
    case 'N': return rng.pick(NOUNS);
    case 'A': return rng.pick(ADJECTIVES);
    case 'F': return rng.pick(FILLERS);
    case 'R': return rng.pick(PREPOSITIONS);
  }
}

/** Exactly `count` words, built from line shapes so the text reads like (simple) lyrics. */
export function lyricWords(count: number, rng: Rng): string[] {
  const words: string[] = [];
  while (words.length < count) {
    for (const slot of rng.pick(LINE_SHAPES)) words.push(wordFor(slot, rng));
  }
  return words.slice(0, count);
}

/** Vowel qualities the formant synthesiser knows. */
export type Vowel = 'a' | 'e' | 'i' | 'o' | 'u' | 'ae' | 'er' | 'uh';
/** Consonant classes the formant synthesiser renders (noise band, burst or nasal murmur). */
export type Consonant = 's' | 'sh' | 'f' | 'h' | 'th' | 't' | 'k' | 'p' | 'b' | 'd' | 'g' | 'm' | 'n' | 'l' | 'r' | 'w' | 'y' | 'v' | 'z' | 'ch';

export interface Syllable {
  onset: Consonant[];
  vowel: Vowel;
  /** Optional glide target for diphthongs ("night" a→i). */
  offglide: Vowel | null;
  coda: Consonant[];
}

const DIGRAPHS: ReadonlyArray<readonly [string, Consonant]> = [['sh', 'sh'], ['ch', 'ch'], ['th', 'th'], ['ph', 'f'], ['wh', 'w'], ['ck', 'k'], ['ng', 'n'], ['gh', 'h']];
const LETTERS: Readonly<Record<string, Consonant>> = {
  s: 's', f: 'f', h: 'h', t: 't', k: 'k', c: 'k', p: 'p', b: 'b', d: 'd', g: 'g', m: 'm', n: 'n', l: 'l', r: 'r',
  w: 'w', y: 'y', v: 'v', z: 'z', j: 'ch', q: 'k', x: 's',
};
const VOWEL_GROUPS: ReadonlyArray<readonly [string, Vowel, Vowel | null]> = [
  ['igh', 'a', 'i'], ['ee', 'i', null], ['ea', 'i', null], ['oo', 'u', null], ['ou', 'a', 'u'], ['ow', 'o', 'u'],
  ['ai', 'e', 'i'], ['ay', 'e', 'i'], ['oi', 'o', 'i'], ['ey', 'e', 'i'], ['ue', 'u', null], ['ie', 'a', 'i'],
  ['oa', 'o', null], ['ur', 'er', null], ['er', 'er', null], ['ir', 'er', null], ['or', 'o', null], ['ar', 'a', null],
  ['a', 'ae', null], ['e', 'e', null], ['i', 'i', null], ['o', 'o', null], ['u', 'uh', null], ['y', 'a', 'i'],
];

function consonantsOf(text: string): Consonant[] {
  const out: Consonant[] = [];
  let i = 0;
  while (i < text.length) {
    const two = text.slice(i, i + 2);
    const digraph = DIGRAPHS.find(([d]) => d === two);
    if (digraph !== undefined) {
      out.push(digraph[1]);
      i += 2;
      continue;
    }
    const c = LETTERS[text[i] ?? ''];
    if (c !== undefined && out[out.length - 1] !== c) out.push(c);
    i += 1;
  }
  return out;
}

/** Rough one-syllable reading of a word; good enough to give the formant voice word-like consonant/vowel motion. */
export function syllableOf(word: string): Syllable {
  let w = word.toLowerCase().replace(/[^a-z]/g, '');
  // A final silent "e" lengthens the vowel in English spelling; drop it and treat the vowel as a diphthong.
  const magicE = /[^aeiou][aeiou][^aeiouwy]e$/.test(w) && w.length > 3;
  if (magicE || (w.endsWith('e') && w.length > 2 && !/[aeiou]e$/.test(w))) w = w.slice(0, -1);
  for (let start = 0; start < w.length; start++) {
    for (const [group, vowel, glide] of VOWEL_GROUPS) {
      if (!w.startsWith(group, start)) continue;
      if (group === 'y' && start === 0) continue;
      let v: Vowel = vowel;
      let g: Vowel | null = glide;
      if (magicE && group.length === 1) {
        const long: Record<string, readonly [Vowel, Vowel | null]> = { a: ['e', 'i'], i: ['a', 'i'], o: ['o', 'u'], u: ['u', null], e: ['i', null] };
        const l = long[group];
        if (l !== undefined) [v, g] = l;
      }
      const restStart = start + (group.endsWith('r') && group.length === 2 ? 2 : group.length);
      return { onset: consonantsOf(w.slice(0, start)), vowel: v, offglide: g, coda: consonantsOf(w.slice(restStart)) };
    }
  }
  return { onset: consonantsOf(w), vowel: 'uh', offglide: null, coda: [] };
}
