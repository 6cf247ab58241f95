/**
 * WebRTC transport metrics, registered on the server's registry next to the session metrics (server/metrics owns
 * those; these exist only when the WebRTC transport is mounted). Ends are counted by reason so a vanished peer shows
 * up as `livestem_webrtc_peers_ended_total{reason="stalled"}` with `livestem_webrtc_peers_active` back at zero.
 */
import { Counter, Gauge } from 'prom-client';
export class WebRtcMetrics {
    peersActive;
    peersStarted;
    peersEnded;
    signallingErrors;
    rtpPacketsReceived;
    rtpPacketsConcealed;
    rtpPacketsLate;
    rtpPacketsReordered;
    rtpPacketsSent;
    egressUnderrunFrames;
    egressDroppedFrames;
    constructor(registry) {
        const registers = [registry];
        this.peersActive = new Gauge({ name: 'livestem_webrtc_peers_active', help: 'WebRTC peers currently holding a session', registers });
        this.peersStarted = new Counter({ name: 'livestem_webrtc_peers_started_total', help: 'WebRTC offers answered', registers });
        this.peersEnded = new Counter({
            name: 'livestem_webrtc_peers_ended_total',
            help: 'WebRTC peers torn down (session and media freed), by reason',
            labelNames: ['reason'],
            registers,
        });
        this.signallingErrors = new Counter({
            name: 'livestem_webrtc_signalling_errors_total',
            help: 'Offers refused, by error code',
            labelNames: ['code'],
            registers,
        });
        this.rtpPacketsReceived = new Counter({ name: 'livestem_webrtc_rtp_packets_received_total', help: 'Input RTP packets received', registers });
        this.rtpPacketsConcealed = new Counter({
            name: 'livestem_webrtc_rtp_packets_concealed_total',
            help: 'Input packets replaced by silence, by cause (lost = never arrived in time, undecodable = decoder error)',
            labelNames: ['cause'],
            registers,
        });
        this.rtpPacketsLate = new Counter({ name: 'livestem_webrtc_rtp_packets_late_total', help: 'Input packets dropped for arriving after their slot (or duplicated)', registers });
        this.rtpPacketsReordered = new Counter({ name: 'livestem_webrtc_rtp_packets_reordered_total', help: 'Input packets that arrived after a gap and were held', registers });
        this.rtpPacketsSent = new Counter({ name: 'livestem_webrtc_rtp_packets_sent_total', help: 'Output RTP packets sent (all tracks)', registers });
        this.egressUnderrunFrames = new Counter({ name: 'livestem_webrtc_egress_underrun_frames_total', help: 'Output slots with no audio ready, sent as silence', registers });
        this.egressDroppedFrames = new Counter({ name: 'livestem_webrtc_egress_dropped_frames_total', help: 'Output frames dropped to bound the output delay (send queue over its bound, or standing above its target)', registers });
    }
}
//# sourceMappingURL=webrtc-metrics.js.map