/**
 * The external programs the generator calls (Festival, espeak-ng, sox), a presence check that names the missing
 * tool, and a small synchronous runner that reads their WAV output back as planar float audio.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { decodeWav } from '../../../server/dsp/wav.ts';

export const SETUP_HINT = 'bash scripts/setup-system.sh';

export class MissingToolError extends Error {
  override readonly name = 'MissingToolError';
  constructor(readonly tool: string, readonly apt: string) {
    super(`missing system tool "${tool}" (Debian package ${apt}); install it with: ${SETUP_HINT}`);
  }
}

export class ToolFailedError extends Error {
  override readonly name = 'ToolFailedError';
}

const FESTIVAL_VOICE_DIRS = ['/usr/share/festival/voices/english'];

function onPath(command: string): boolean {
  for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
    if (dir !== '' && existsSync(join(dir, command))) return true;
  }
  return false;
}

function hasFestivalVoice(name: string): boolean {
  return FESTIVAL_VOICE_DIRS.some((d) => existsSync(join(d, name)));
}

/** Throws MissingToolError for the first missing tool or voice the generator needs. */
export function checkSystemTools(): void {
  const commands: Array<readonly [string, string]> = [['text2wave', 'festival'], ['festival', 'festival'], ['espeak-ng', 'espeak-ng'], ['sox', 'sox']];
  for (const [cmd, apt] of commands) if (!onPath(cmd)) throw new MissingToolError(cmd, apt);
  if (!hasFestivalVoice('kal_diphone')) throw new MissingToolError('festival voice kal_diphone', 'festvox-kallpc16k');
  if (!hasFestivalVoice('ked_diphone')) throw new MissingToolError('festival voice ked_diphone', 'festvox-kdlpc16k');
}

/** Runs a tool to completion; a non-zero exit becomes a ToolFailedError with the tool's stderr. */
export function runTool(command: string, args: readonly string[], input?: string): void {
  const result = spawnSync(command, args, { input, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (result.error !== undefined) {
    if ((result.error as NodeJS.ErrnoException).code === 'ENOENT') throw new MissingToolError(command, command);
    throw new ToolFailedError(`${command} failed to start: ${result.error.message}`, { cause: result.error });
  }
  if (result.status !== 0) {
    throw new ToolFailedError(`${command} ${args.join(' ')} exited ${result.status}: ${(result.stderr ?? '').trim().slice(0, 400)}`);
  }
}

/** Reads a WAV file written by a tool. */
export function readToolWav(path: string): { sampleRateHz: number; channels: Float32Array[] } {
  return decodeWav(readFileSync(path));
}
