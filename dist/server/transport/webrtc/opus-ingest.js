/**
 * Incoming Opus RTP → planar 48 kHz stereo PCM. Packets go through the reorder buffer; a lost packet (or one the
 * decoder rejects) becomes silence of the last packet's duration, so the stream keeps its wall-clock timeline and
 * the session's sample offsets stay aligned with what the peer sent. Every substitution is counted.
 */
import { OpusDecoder } from 'opus-decoder';
import { RtpReorderBuffer } from "./rtp-reorder.js";
export const OPUS_RATE_HZ = 48000;
const DEFAULT_PACKET_SAMPLES = 960;
export class OpusIngest {
    #decoder;
    #reorder;
    #packetSamples = DEFAULT_PACKET_SAMPLES;
    #decodedPackets = 0;
    #decodeErrors = 0;
    #concealedPackets = 0;
    #concealedSamples = 0;
    constructor(decoder, maxHoldPackets) {
        this.#decoder = decoder;
        this.#reorder = new RtpReorderBuffer(maxHoldPackets);
    }
    static async create(maxHoldPackets = 3) {
        const decoder = new OpusDecoder({ sampleRate: OPUS_RATE_HZ, channels: 2 });
        await decoder.ready;
        return new OpusIngest(decoder, maxHoldPackets);
    }
    /** One RTP packet in; zero or more planar stereo chunks out, in stream order. */
    push(sequence, payload) {
        const chunks = [];
        for (const item of this.#reorder.push(sequence, payload)) {
            if (item.kind === 'missing')
                this.#conceal(item.count, chunks);
            else
                this.#decode(item.payload, chunks);
        }
        return chunks;
    }
    get stats() {
        return {
            ...this.#reorder.stats,
            decodedPackets: this.#decodedPackets,
            decodeErrors: this.#decodeErrors,
            concealedPackets: this.#concealedPackets,
            concealedSamples: this.#concealedSamples,
        };
    }
    free() {
        this.#decoder.free();
    }
    #decode(payload, chunks) {
        const decoded = this.#decoder.decodeFrame(payload);
        if (decoded.errors.length > 0 || decoded.samplesDecoded === 0) {
            this.#decodeErrors++;
            this.#conceal(1, chunks);
            return;
        }
        this.#decodedPackets++;
        this.#packetSamples = decoded.samplesDecoded;
        const left = decoded.channelData[0];
        chunks.push([left, decoded.channelData[1] ?? left]);
    }
    #conceal(packets, chunks) {
        const samples = packets * this.#packetSamples;
        this.#concealedPackets += packets;
        this.#concealedSamples += samples;
        chunks.push([new Float32Array(samples), new Float32Array(samples)]);
    }
}
//# sourceMappingURL=opus-ingest.js.map