/**
 * The werift side of one WebRTC client: applies the (already inspected) offer, binds the output tracks to the
 * client's receiving m-sections, and returns a non-trickle answer (all ICE candidates included, WHIP-style).
 * Loopback-only sandboxes need both `iceAdditionalHostAddresses: ['127.0.0.1']` here and Chromium's
 * `--allow-loopback-in-peer-connection`; deployments configure ICE servers and host addresses instead.
 */
import { MediaStreamTrack, RTCPeerConnection, RTCRtpCodecParameters, type RTCDataChannel, type RtpPacket } from 'werift';
import { LivestemError } from '../../errors.ts';
import { truncateForEcho } from '../../text-bounds.ts';
import type { OfferSummary } from './sdp-offer.ts';

export interface IceOptions {
  iceServers: { urls: string; username?: string; credential?: string }[];
  /** Extra host candidates (e.g. 127.0.0.1 for loopback, a public IP behind 1:1 NAT). */
  iceAdditionalHostAddresses: string[];
  iceUseIpv6: boolean;
  icePortRange?: [number, number];
  /** Give up gathering candidates for the answer after this long. */
  gatherTimeoutMs: number;
}

export const DEFAULT_ICE: IceOptions = {
  iceServers: [],
  iceAdditionalHostAddresses: ['127.0.0.1'],
  iceUseIpv6: false,
  gatherTimeoutMs: 3000,
};

export interface AnsweredPeer<K extends string> {
  pc: RTCPeerConnection;
  answerSdp: string;
  gatheringComplete: boolean;
  outputTracks: Map<K, MediaStreamTrack>;
  /** mid of each output, for clients that map tracks by transceiver. */
  outputMids: Map<K, string>;
  onInputRtp(listener: (rtp: RtpPacket) => void): void;
  onDataChannel(listener: (dc: RTCDataChannel) => void): void;
}

const OPUS = (): RTCRtpCodecParameters =>
  new RTCRtpCodecParameters({
    mimeType: 'audio/opus',
    clockRate: 48000,
    channels: 2,
    parameters: 'minptime=10;useinbandfec=1;stereo=1;sprop-stereo=1',
    rtcpFeedback: [{ type: 'transport-cc' }],
  });

export async function answerOffer<K extends string>(offerSdp: string, offer: OfferSummary, outputs: readonly K[], ice: IceOptions): Promise<AnsweredPeer<K>> {
  const pc = new RTCPeerConnection({
    iceServers: ice.iceServers,
    iceAdditionalHostAddresses: ice.iceAdditionalHostAddresses,
    iceUseIpv6: ice.iceUseIpv6,
    ...(ice.icePortRange ? { icePortRange: ice.icePortRange } : {}),
    codecs: { audio: [OPUS()] },
  });
  try {
    try {
      await pc.setRemoteDescription({ type: 'offer', sdp: offerSdp });
    } catch (err) {
      throw new LivestemError('LIVESTEM_ERR_BAD_MESSAGE', `SDP offer rejected by the WebRTC stack: ${truncateForEcho(String((err as Error | undefined)?.message ?? err), 100)}`, { cause: err });
    }
    const transceivers = pc.getTransceivers();
    const mediaSections = offer.sections.filter((s) => s.media !== 'application');
    // werift keeps the offer's mids; offers without mids (legacy) map by m-line order.
    const transceiverOf = (section: OfferSummary['input']): (typeof transceivers)[number] | undefined =>
      section.mid === undefined ? transceivers[mediaSections.indexOf(section)] : transceivers.find((t) => t.mid === section.mid);
    const input = transceiverOf(offer.input);
    if (input === undefined) throw new LivestemError('LIVESTEM_ERR_BAD_MESSAGE', 'SDP offer: input m-section has no transceiver');
    const outputTracks = new Map<K, MediaStreamTrack>();
    const outputMids = new Map<K, string>();
    outputs.forEach((kind, i) => {
      const section = offer.receivers[i]!;
      const transceiver = transceiverOf(section);
      if (transceiver === undefined) throw new LivestemError('LIVESTEM_ERR_BAD_MESSAGE', `SDP offer: m-section ${section.index} has no mid`);
      const track = new MediaStreamTrack({ kind: 'audio' });
      transceiver.sender.replaceTrack(track);
      transceiver.setDirection(transceiver === input ? 'sendrecv' : 'sendonly');
      outputTracks.set(kind, track);
      outputMids.set(kind, transceiver.mid ?? String(section.index));
    });
    if (!outputs.some((_, i) => transceiverOf(offer.receivers[i]!) === input)) input.setDirection('recvonly');

    const rtpListeners: ((rtp: RtpPacket) => void)[] = [];
    // werift creates the remote track during setRemoteDescription when the offer names its SSRC, or on the first
    // packet otherwise: listen to both, once per track.
    const listening = new Set<MediaStreamTrack>();
    const listen = (track: MediaStreamTrack): void => {
      if (listening.has(track)) return;
      listening.add(track);
      track.onReceiveRtp.subscribe((rtp) => {
        for (const l of rtpListeners) l(rtp);
      });
    };
    for (const track of input.receiver.tracks) listen(track);
    input.onTrack.subscribe(listen);
    const dcListeners: ((dc: RTCDataChannel) => void)[] = [];
    pc.onDataChannel.subscribe((dc) => {
      for (const l of dcListeners) l(dc);
    });

    const answer = await pc.createAnswer();
    await pc.setLocalDescription(answer);
    // Non-trickle: wait for every candidate; on timeout answer with those gathered so far (still usable).
    const gatheringComplete =
      pc.iceGatheringState === 'complete' ||
      (await pc.iceGatheringStateChange.watch((state) => state === 'complete', ice.gatherTimeoutMs).then(
        () => true,
        () => false,
      ));
    const answerSdp = pc.localDescription?.sdp;
    if (answerSdp === undefined) throw new LivestemError('LIVESTEM_ERR_INTERNAL', 'no local description after setLocalDescription');
    return {
      pc,
      answerSdp,
      gatheringComplete,
      outputTracks,
      outputMids,
      onInputRtp: (l) => rtpListeners.push(l),
      onDataChannel: (l) => dcListeners.push(l),
    };
  } catch (err) {
    await pc.close();
    throw err;
  }
}
