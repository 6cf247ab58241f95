/**
 * Generator profiles: which version of the song generator makes a track. A track's bytes depend on (profile, seed)
 * only, so a data set regenerates exactly as long as its profile's code paths stay frozen.
 *
 * - v1: the first generator (one form, ~10 drum/bass/comp styles, three vocal engines singing a lone lead, EQ,
 *   reverb and an occasional low-pass). Existing models were trained on `--profile v1 --seed 1`; never change
 *   what v1 draws or renders.
 * - v2 (default): genres with their own instruments, drum kits and forms; instrumental-only songs and long
 *   instrumental intros, breaks and endings (always with an instrumental lead); more singers and deliveries
 *   (sung, breathy, strained/shouted, spoken), doubles and harmonies; compression, reverb sizes, stereo width,
 *   bus compression, low-pass or telephone band on the whole mix, loudness rides and fades.
 */
export const GENERATOR_PROFILES = ['v1', 'v2'] as const;
export type GeneratorProfile = (typeof GENERATOR_PROFILES)[number];
export const DEFAULT_PROFILE: GeneratorProfile = 'v2';

export function isGeneratorProfile(x: string): x is GeneratorProfile {
  return (GENERATOR_PROFILES as readonly string[]).includes(x);
}

/** The `version` written into meta.json. */
export function profileVersion(profile: GeneratorProfile): number {
  return profile === 'v1' ? 1 : 2;
}
