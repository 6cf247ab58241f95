/**
 * Opens a MUSDB-layout split whichever form it is in: HQ track folders or .stem.mp4 files.
 */
import { openWavSplit, type MusdbTrack } from './musdb.ts';
import { hasStemMp4, openStemMp4Split, type StemMp4Options } from './stem-mp4.ts';

export async function openMusdb(root: string, split: string, options: StemMp4Options = {}): Promise<MusdbTrack[]> {
  if (await hasStemMp4(root, split)) return openStemMp4Split(root, split, options);
  return openWavSplit(root, split);
}
