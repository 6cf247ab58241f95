/**
 * The werift side of one WebRTC client: applies the (already inspected) offer, binds the output tracks to the
 * client's receiving m-sections, and returns a non-trickle answer (all ICE candidates included, WHIP-style).
 * Loopback-only sandboxes need both `iceAdditionalHostAddresses: ['127.0.0.1']` here and Chromium's
 * `--allow-loopback-in-peer-connection`; deployments configure ICE servers and host addresses instead.
 */
import { MediaStreamTrack, RTCPeerConnection, RTCRtpCodecParameters } from 'werift';
import { LivestemError } from "../../errors.js";
import { truncateForEcho } from "../../text-bounds.js";
export const DEFAULT_ICE = {
    iceServers: [],
    iceAdditionalHostAddresses: ['127.0.0.1'],
    iceUseIpv6: false,
    gatherTimeoutMs: 3000,
};
const OPUS = () => new RTCRtpCodecParameters({
    mimeType: 'audio/opus',
    clockRate: 48000,
    channels: 2,
    parameters: 'minptime=10;useinbandfec=1;stereo=1;sprop-stereo=1',
    rtcpFeedback: [{ type: 'transport-cc' }],
});
export async function answerOffer(offerSdp, offer, outputs, ice) {
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
        }
        catch (err) {
            throw new LivestemError('LIVESTEM_ERR_BAD_MESSAGE', `SDP offer rejected by the WebRTC stack: ${truncateForEcho(String(err?.message ?? err), 100)}`, { cause: err });
        }
        const transceivers = pc.getTransceivers();
        const mediaSections = offer.sections.filter((s) => s.media !== 'application');
        // werift keeps the offer's mids; offers without mids (legacy) map by m-line order.
        const transceiverOf = (section) => section.mid === undefined ? transceivers[mediaSections.indexOf(section)] : transceivers.find((t) => t.mid === section.mid);
        const input = transceiverOf(offer.input);
        if (input === undefined)
            throw new LivestemError('LIVESTEM_ERR_BAD_MESSAGE', 'SDP offer: input m-section has no transceiver');
        const outputTracks = new Map();
        const outputMids = new Map();
        outputs.forEach((kind, i) => {
            const section = offer.receivers[i];
            const transceiver = transceiverOf(section);
            if (transceiver === undefined)
                throw new LivestemError('LIVESTEM_ERR_BAD_MESSAGE', `SDP offer: m-section ${section.index} has no mid`);
            const track = new MediaStreamTrack({ kind: 'audio' });
            transceiver.sender.replaceTrack(track);
            transceiver.setDirection(transceiver === input ? 'sendrecv' : 'sendonly');
            outputTracks.set(kind, track);
            outputMids.set(kind, transceiver.mid ?? String(section.index));
        });
        if (!outputs.some((_, i) => transceiverOf(offer.receivers[i]) === input))
            input.setDirection('recvonly');
        const rtpListeners = [];
        // werift creates the remote track during setRemoteDescription when the offer names its SSRC, or on the first
        // packet otherwise: listen to both, once per track.
        const listening = new Set();
        const listen = (track) => {
            if (listening.has(track))
                return;
            listening.add(track);
            track.onReceiveRtp.subscribe((rtp) => {
                for (const l of rtpListeners)
                    l(rtp);
            });
        };
        for (const track of input.receiver.tracks)
            listen(track);
        input.onTrack.subscribe(listen);
        const dcListeners = [];
        pc.onDataChannel.subscribe((dc) => {
            for (const l of dcListeners)
                l(dc);
        });
        const answer = await pc.createAnswer();
        await pc.setLocalDescription(answer);
        // Non-trickle: wait for every candidate; on timeout answer with those gathered so far (still usable).
        const gatheringComplete = pc.iceGatheringState === 'complete' ||
            (await pc.iceGatheringStateChange.watch((state) => state === 'complete', ice.gatherTimeoutMs).then(() => true, () => false));
        const answerSdp = pc.localDescription?.sdp;
        if (answerSdp === undefined)
            throw new LivestemError('LIVESTEM_ERR_INTERNAL', 'no local description after setLocalDescription');
        return {
            pc,
            answerSdp,
            gatheringComplete,
            outputTracks,
            outputMids,
            onInputRtp: (l) => rtpListeners.push(l),
            onDataChannel: (l) => dcListeners.push(l),
        };
    }
    catch (err) {
        await pc.close();
        throw err;
    }
}
//# sourceMappingURL=rtc-peer.js.map