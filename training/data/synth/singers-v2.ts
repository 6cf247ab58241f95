/**
 * v2 singers: more espeak-ng accents and voice variants, wider formant shifts (child-like to deep), straight-tone to
 * wide vibrato, and a delivery — sung, breathy, strained/shouted or spoken — that changes the voice itself
 * (range, glottal open quotient, breath) as well as the effects chosen for it.
 */
import type { Rng } from './rng.ts';
import type { Singer, VoiceEngine } from './singers.ts';
import type { Delivery } from './styles.ts';

export interface SingerV2 extends Singer {
  delivery: Delivery;
}

const ACCENTS = ['en', 'en', 'en-us', 'en-us', 'en-gb-scotland', 'en-gb-x-rp', 'en-029', 'en-gb-x-gbclan', 'en-gb-x-gbcwmd', 'en-us-nyc'];
const MALE_VARIANTS = ['m1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7', 'm8', 'Andy', 'adam', 'boris', 'david', 'ed', 'edward', 'Gene', 'iven',
  'john', 'Mario', 'Mike', 'paul', 'pedro', 'rob', 'robert', 'Storm', 'travis', 'victor', 'zac', 'norbert', 'klatt', 'klatt3'];
const FEMALE_VARIANTS = ['f1', 'f2', 'f3', 'f4', 'f5', 'Annie', 'belinda', 'linda', 'anika', 'Alicia', 'Andrea', 'aunty', 'steph', 'klatt2'];
/** Rough voices for strained/shouted singing; whispers only ever speak (PSOLA needs a pitch to sing). */
const STRAINED_VARIANTS = ['croak', 'grandpa', 'Demonic'];
const WHISPER_VARIANTS = ['whisper', 'whisperf'];

function espeakVoice(female: boolean, delivery: Delivery, rng: Rng): string {
  const accent = rng.pick(ACCENTS);
  if (delivery === 'strained' && rng.chance(0.4)) return `${accent}+${rng.pick(STRAINED_VARIANTS)}`;
  if (delivery === 'spoken' && rng.chance(0.2)) return `${accent}+${rng.pick(WHISPER_VARIANTS)}`;
  return `${accent}+${rng.pick(female ? FEMALE_VARIANTS : MALE_VARIANTS)}`;
}

export function pickSingerV2(deliveries: ReadonlyArray<readonly [Delivery, number]>, rng: Rng): SingerV2 {
  const delivery = rng.weighted(deliveries);
  // The formant synthesiser cannot speak words at speech rhythm; spoken lines come from espeak-ng or Festival.
  const engine: VoiceEngine = delivery === 'spoken'
    ? rng.weighted([['espeak', 0.7], ['festival', 0.3]] as const)
    : rng.weighted([['festival', 0.3], ['espeak', 0.4], ['formant', 0.3]] as const);
  const gender = rng.chance(0.5) ? 'female' : 'male';
  const female = gender === 'female';
  const voice = engine === 'festival' ? rng.pick(['kal', 'ked']) : engine === 'espeak' ? espeakVoice(female, delivery, rng) : `formant-${gender}`;
  // Strained singers sit at the top of their range; breathy ones lower and softer.
  const lift = delivery === 'strained' ? rng.int(3, 7) : delivery === 'breathy' ? rng.int(-3, 0) : 0;
  const lowMidi = (female ? rng.int(53, 62) : rng.int(40, 52)) + lift;
  const straight = rng.chance(0.12);
  return {
    engine,
    voice,
    gender,
    lowMidi,
    highMidi: Math.min(engine === 'festival' ? 70 : 81, lowMidi + rng.int(10, 17)),
    formantRatio: female ? rng.range(1.04, 1.3) : rng.range(0.85, 1.06),
    vibratoHz: rng.range(3.8, 7.5),
    vibratoCents: straight ? rng.range(0, 8) : rng.range(15, delivery === 'strained' ? 110 : 80),
    vibratoDelaySec: rng.range(0.05, 0.4),
    portamentoSec: rng.range(0.02, 0.14),
    breathiness: delivery === 'breathy' ? rng.range(0.4, 0.75) : rng.range(0.03, 0.3),
    driftCents: rng.range(2, delivery === 'strained' ? 25 : 15),
    openQuotient: delivery === 'strained' ? rng.range(0.32, 0.45) : delivery === 'breathy' ? rng.range(0.7, 0.85) : rng.range(0.5, 0.7),
    delivery,
  };
}
