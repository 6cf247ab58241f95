/**
 * Pure inspection of a client's SDP offer before it reaches werift, so that the usual mistakes come back as clear
 * catalog errors (HTTP 400/413/415) instead of a peer that silently never sends audio, and so that a hostile offer
 * costs a string scan, not WebRTC work: werift opens an ICE transport (UDP sockets) per unbundled m-section, and an
 * offer with hundreds of them blocked the event loop for seconds.
 *
 * Contract with clients: the first audio m-section the client sends on (sendonly/sendrecv) is the input; the audio
 * m-sections the client can receive on (recvonly/sendrecv), in m-line order, carry the requested outputs in the order
 * of `outputs`; an `application` m-section (DataChannel) is optional and carries the `events` channel. Every m-section
 * is in one `a=group:BUNDLE` (one transport, whatever the section count) and has a DTLS fingerprint.
 */
import { LivestemError } from "../../errors.js";
import { truncateForEcho } from "../../text-bounds.js";
/**
 * Measured: Chromium 156's offer for the largest contract (1 input + 3 outputs + DataChannel, default bundle policy,
 * two interfaces) is 5.4 KB with 10 candidates, because it repeats a per-section set of candidates in every m-section.
 * The limits leave room for multi-homed clients with TURN, and for nothing like the 658-section offer.
 */
export const OFFER_LIMITS = {
    /** Body / `sdp` size, UTF-8 bytes (6× the measured offer; 128 candidate lines still fit). */
    maxBytes: 32 * 1024,
    /** 1 input + 3 outputs + 1 application is the most the contract uses; 3 spare. */
    maxSections: 8,
    /** `a=candidate` lines in the whole offer: ~25 per section for 5 sections. werift answers 128 in < 100 ms. */
    maxCandidates: 128,
};
const DIRECTIONS = new Set(['sendrecv', 'sendonly', 'recvonly', 'inactive']);
// RFC 8122: hash function token, then upper- or lower-case hex byte pairs.
const FINGERPRINT = /^fingerprint:[A-Za-z0-9-]+ [0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2})+$/;
function malformed(why) {
    return new LivestemError('LIVESTEM_ERR_BAD_MESSAGE', `malformed SDP offer: ${why}`);
}
function countLines(sdp, prefix) {
    return sdp.match(prefix)?.length ?? 0;
}
/** The size/count limits, checked with plain scans before anything is parsed or allocated per section. */
export function checkOfferLimits(sdp) {
    const bytes = Buffer.byteLength(sdp, 'utf8');
    if (bytes > OFFER_LIMITS.maxBytes) {
        throw new LivestemError('LIVESTEM_ERR_PAYLOAD_TOO_LARGE', `SDP offer is ${bytes} bytes; the limit is ${OFFER_LIMITS.maxBytes} bytes`);
    }
    const sections = countLines(sdp, /^m=/gm);
    if (sections > OFFER_LIMITS.maxSections) {
        throw new LivestemError('LIVESTEM_ERR_BAD_MESSAGE', `SDP offer has ${sections} m-sections; at most ${OFFER_LIMITS.maxSections} are accepted (1 input, up to 3 outputs, 1 DataChannel)`);
    }
    const candidates = countLines(sdp, /^a=candidate:/gm);
    if (candidates > OFFER_LIMITS.maxCandidates) {
        throw new LivestemError('LIVESTEM_ERR_BAD_MESSAGE', `SDP offer has ${candidates} a=candidate lines; at most ${OFFER_LIMITS.maxCandidates} are accepted`);
    }
}
function parseOffer(sdp) {
    const lines = sdp.split(/\r?\n/).filter((l) => l.length > 0);
    if (lines[0] !== 'v=0')
        throw malformed('it must start with "v=0"');
    const bad = lines.find((l) => !/^[a-z]=/.test(l));
    if (bad !== undefined)
        throw malformed(`line "${truncateForEcho(bad, 40)}" is not <type>=<value>`);
    if (!lines.some((l) => l.startsWith('o=')))
        throw malformed('no o= line');
    let sessionDirection = 'sendrecv';
    let sessionFingerprint = false;
    const bundles = [];
    const sections = [];
    for (const line of lines) {
        if (line.startsWith('m=')) {
            const parts = line.slice(2).split(' ');
            if (parts.length < 4)
                throw malformed(`m-line "${truncateForEcho(line)}" needs media, port, protocol and formats`);
            sections.push({ index: sections.length, media: parts[0], mid: undefined, direction: sessionDirection, codecs: new Map(), hasFingerprint: false });
            continue;
        }
        if (!line.startsWith('a='))
            continue;
        const attr = line.slice(2);
        const current = sections.at(-1);
        if (DIRECTIONS.has(attr)) {
            if (current === undefined)
                sessionDirection = attr;
            else
                current.direction = attr;
        }
        else if (attr.startsWith('fingerprint:')) {
            if (!FINGERPRINT.test(attr))
                throw malformed(`bad fingerprint "${truncateForEcho(attr)}" (expected "a=fingerprint:sha-256 AB:CD:…")`);
            if (current === undefined)
                sessionFingerprint = true;
            else
                current.hasFingerprint = true;
        }
        else if (current === undefined && attr.startsWith('group:BUNDLE')) {
            bundles.push(attr.slice('group:BUNDLE'.length).trim().split(/\s+/).filter((m) => m.length > 0));
        }
        else if (current !== undefined && attr.startsWith('mid:')) {
            current.mid = attr.slice(4);
        }
        else if (current !== undefined && attr.startsWith('rtpmap:')) {
            const match = /^rtpmap:(\d+) (.+)$/.exec(attr);
            if (match === null)
                throw malformed(`bad rtpmap "${truncateForEcho(attr)}"`);
            current.codecs.set(Number(match[1]), match[2].toLowerCase());
        }
    }
    if (sections.length === 0)
        throw malformed('no m= section');
    return { sections, bundles, sessionFingerprint };
}
export function parseSections(sdp) {
    checkOfferLimits(sdp);
    return parseOffer(sdp).sections;
}
/** One BUNDLE group naming every m-section: werift then runs a single ICE/DTLS transport for the whole offer. */
function checkBundle({ sections, bundles }) {
    const hint = 'every m-section must be in one a=group:BUNDLE (browsers do this by default; use bundlePolicy "max-bundle")';
    const unnamed = sections.find((s) => s.mid === undefined);
    if (unnamed !== undefined)
        throw new LivestemError('LIVESTEM_ERR_BAD_MESSAGE', `SDP offer m-section ${unnamed.index} has no a=mid: ${hint}`);
    if (bundles.length === 0)
        throw new LivestemError('LIVESTEM_ERR_BAD_MESSAGE', `SDP offer has no a=group:BUNDLE: ${hint}`);
    const mids = sections.map((s) => s.mid);
    const repeated = mids.find((mid, i) => mids.indexOf(mid) !== i);
    if (repeated !== undefined)
        throw new LivestemError('LIVESTEM_ERR_BAD_MESSAGE', `SDP offer repeats a=mid:${truncateForEcho(repeated, 20)}: each m-section needs its own mid`);
    if (bundles.length > 1)
        throw new LivestemError('LIVESTEM_ERR_BAD_MESSAGE', `SDP offer has ${bundles.length} BUNDLE groups: ${hint}`);
    const group = new Set(bundles[0]);
    const outside = sections.find((s) => !group.has(s.mid));
    if (outside !== undefined) {
        throw new LivestemError('LIVESTEM_ERR_BAD_MESSAGE', `SDP offer BUNDLE leaves out mid ${truncateForEcho(outside.mid, 20)}: ${hint}`);
    }
}
/** Without a fingerprint DTLS cannot authenticate the peer that answers ICE checks. */
function checkFingerprint({ sections, sessionFingerprint }) {
    if (sessionFingerprint)
        return;
    const missing = sections.find((s) => !s.hasFingerprint);
    if (missing !== undefined) {
        throw new LivestemError('LIVESTEM_ERR_BAD_MESSAGE', `DTLS fingerprint required: SDP offer m-section ${missing.index} has no a=fingerprint (session- or media-level)`);
    }
}
const sends = (s) => s.direction === 'sendrecv' || s.direction === 'sendonly';
const receives = (s) => s.direction === 'sendrecv' || s.direction === 'recvonly';
const hasOpus = (s) => [...s.codecs.values()].some((c) => c.startsWith('opus/48000'));
/** Validates an offer for `outputCount` output tracks; throws the catalog error a client should see. */
export function inspectOffer(sdp, outputCount) {
    checkOfferLimits(sdp);
    const parsed = parseOffer(sdp);
    checkBundle(parsed);
    checkFingerprint(parsed);
    const { sections } = parsed;
    const audio = sections.filter((s) => s.media === 'audio');
    const input = audio.find(sends);
    if (input === undefined) {
        throw new LivestemError('LIVESTEM_ERR_BAD_MESSAGE', audio.length === 0
            ? 'SDP offer has no audio track: add the microphone/music track (one audio m-section the client sends on)'
            : 'SDP offer has no audio track the client sends: the input m-section must be sendonly or sendrecv');
    }
    const wrongCodec = audio.find((s) => (sends(s) || receives(s)) && !hasOpus(s));
    if (wrongCodec !== undefined) {
        const offered = truncateForEcho([...wrongCodec.codecs.values()].join(', ') || 'none');
        throw new LivestemError('LIVESTEM_ERR_UNSUPPORTED_FORMAT', `audio m-section ${wrongCodec.index} offers codecs [${offered}]; livestem needs opus/48000/2`);
    }
    const receivers = audio.filter(receives);
    if (receivers.length < outputCount) {
        throw new LivestemError('LIVESTEM_ERR_BAD_MESSAGE', `SDP offer can receive ${receivers.length} audio track(s) but ${outputCount} output(s) were requested: add one recvonly audio transceiver per output`);
    }
    return { sections, input, receivers, hasDataChannel: sections.some((s) => s.media === 'application') };
}
//# sourceMappingURL=sdp-offer.js.map