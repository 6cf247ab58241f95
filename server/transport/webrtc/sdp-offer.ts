/**
 * Pure inspection of a client's SDP offer before it reaches werift, so that the usual mistakes come back as clear
 * catalog errors (HTTP 400/415) instead of a peer that silently never sends audio.
 *
 * Contract with clients: the first audio m-section the client sends on (sendonly/sendrecv) is the input; the audio
 * m-sections the client can receive on (recvonly/sendrecv), in m-line order, carry the requested outputs in the order
 * of `outputs`; an `application` m-section (DataChannel) is optional and carries the `events` channel.
 */
import { LivestemError } from '../../errors.ts';

export type Direction = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';

export interface MediaSection {
  index: number;
  media: string;
  mid: string | undefined;
  /** Direction from the offerer's (client's) point of view. */
  direction: Direction;
  /** `encoding/clockRate[/channels]` per payload type, lower-cased encoding. */
  codecs: Map<number, string>;
}

export interface OfferSummary {
  sections: MediaSection[];
  input: MediaSection;
  /** Audio sections the client receives on, in m-line order. */
  receivers: MediaSection[];
  hasDataChannel: boolean;
}

const DIRECTIONS: ReadonlySet<string> = new Set(['sendrecv', 'sendonly', 'recvonly', 'inactive']);
const MAX_SDP_BYTES = 64 * 1024;

function malformed(why: string): LivestemError {
  return new LivestemError('LIVESTEM_ERR_BAD_MESSAGE', `malformed SDP offer: ${why}`);
}

export function parseSections(sdp: string): MediaSection[] {
  if (sdp.length > MAX_SDP_BYTES) throw new LivestemError('LIVESTEM_ERR_PAYLOAD_TOO_LARGE', `SDP offer over ${MAX_SDP_BYTES} bytes`);
  const lines = sdp.split(/\r?\n/).filter((l) => l.length > 0);
  if (lines[0] !== 'v=0') throw malformed('it must start with "v=0"');
  const bad = lines.find((l) => !/^[a-z]=/.test(l));
  if (bad !== undefined) throw malformed(`line "${bad.slice(0, 40)}" is not <type>=<value>`);
  if (!lines.some((l) => l.startsWith('o='))) throw malformed('no o= line');
  let sessionDirection: Direction = 'sendrecv';
  const sections: MediaSection[] = [];
  for (const line of lines) {
    if (line.startsWith('m=')) {
      const parts = line.slice(2).split(' ');
      if (parts.length < 4) throw malformed(`m-line "${line}" needs media, port, protocol and formats`);
      sections.push({ index: sections.length, media: parts[0]!, mid: undefined, direction: sessionDirection, codecs: new Map() });
      continue;
    }
    if (!line.startsWith('a=')) continue;
    const attr = line.slice(2);
    const current = sections.at(-1);
    if (DIRECTIONS.has(attr)) {
      if (current === undefined) sessionDirection = attr as Direction;
      else current.direction = attr as Direction;
    } else if (current !== undefined && attr.startsWith('mid:')) {
      current.mid = attr.slice(4);
    } else if (current !== undefined && attr.startsWith('rtpmap:')) {
      const match = /^rtpmap:(\d+) (.+)$/.exec(attr);
      if (match === null) throw malformed(`bad rtpmap "${attr}"`);
      current.codecs.set(Number(match[1]), match[2]!.toLowerCase());
    }
  }
  if (sections.length === 0) throw malformed('no m= section');
  return sections;
}

const sends = (s: MediaSection): boolean => s.direction === 'sendrecv' || s.direction === 'sendonly';
const receives = (s: MediaSection): boolean => s.direction === 'sendrecv' || s.direction === 'recvonly';
const hasOpus = (s: MediaSection): boolean => [...s.codecs.values()].some((c) => c.startsWith('opus/48000'));

/** Validates an offer for `outputCount` output tracks; throws the catalog error a client should see. */
export function inspectOffer(sdp: string, outputCount: number): OfferSummary {
  const sections = parseSections(sdp);
  const audio = sections.filter((s) => s.media === 'audio');
  const input = audio.find(sends);
  if (input === undefined) {
    throw new LivestemError(
      'LIVESTEM_ERR_BAD_MESSAGE',
      audio.length === 0
        ? 'SDP offer has no audio track: add the microphone/music track (one audio m-section the client sends on)'
        : 'SDP offer has no audio track the client sends: the input m-section must be sendonly or sendrecv',
    );
  }
  const wrongCodec = audio.find((s) => (sends(s) || receives(s)) && !hasOpus(s));
  if (wrongCodec !== undefined) {
    const offered = [...wrongCodec.codecs.values()].join(', ') || 'none';
    throw new LivestemError(
      'LIVESTEM_ERR_UNSUPPORTED_FORMAT',
      `audio m-section ${wrongCodec.index} offers codecs [${offered}]; livestem needs opus/48000/2`,
    );
  }
  const receivers = audio.filter(receives);
  if (receivers.length < outputCount) {
    throw new LivestemError(
      'LIVESTEM_ERR_BAD_MESSAGE',
      `SDP offer can receive ${receivers.length} audio track(s) but ${outputCount} output(s) were requested: add one recvonly audio transceiver per output`,
    );
  }
  return { sections, input, receivers, hasDataChannel: sections.some((s) => s.media === 'application') };
}
