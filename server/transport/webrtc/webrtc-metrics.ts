/**
 * WebRTC transport metrics, registered on the server's registry next to the session metrics (server/metrics owns
 * those; these exist only when the WebRTC transport is mounted). Ends are counted by reason so a vanished peer shows
 * up as `livestem_webrtc_peers_ended_total{reason="stalled"}` with `livestem_webrtc_peers_active` back at zero.
 */
import { Counter, Gauge, type Registry } from 'prom-client';

export type PeerEndReason = 'deleted' | 'done' | 'stalled' | 'ice-failed' | 'no-media' | 'session-error' | 'shutdown';

export class WebRtcMetrics {
  readonly peersActive: Gauge;
  readonly peersStarted: Counter;
  readonly peersEnded: Counter<'reason'>;
  readonly signallingErrors: Counter<'code'>;
  readonly rtpPacketsReceived: Counter;
  readonly rtpPacketsConcealed: Counter<'cause'>;
  readonly rtpPacketsLate: Counter;
  readonly rtpPacketsReordered: Counter;
  readonly rtpPacketsSent: Counter;
  readonly egressUnderrunFrames: Counter;
  readonly egressDroppedFrames: Counter;
  readonly egressLateFrames: Counter;
  readonly egressTrimmedFrames: Counter;

  constructor(registry: Registry) {
    const registers = [registry];
    this.peersActive = new Gauge({ name: 'livestem_webrtc_peers_active', help: 'WebRTC peers currently holding a session', registers });
    this.peersStarted = new Counter({ name: 'livestem_webrtc_peers_started_total', help: 'WebRTC offers answered', registers });
    this.peersEnded = new Counter({
      name: 'livestem_webrtc_peers_ended_total',
      help: 'WebRTC peers torn down (session and media freed), by reason',
      labelNames: ['reason'] as const,
      registers,
    });
    this.signallingErrors = new Counter({
      name: 'livestem_webrtc_signalling_errors_total',
      help: 'Offers refused, by error code',
      labelNames: ['code'] as const,
      registers,
    });
    this.rtpPacketsReceived = new Counter({ name: 'livestem_webrtc_rtp_packets_received_total', help: 'Input RTP packets received', registers });
    this.rtpPacketsConcealed = new Counter({
      name: 'livestem_webrtc_rtp_packets_concealed_total',
      help: 'Input packets replaced by silence, by cause (lost = never arrived in time, undecodable = decoder error)',
      labelNames: ['cause'] as const,
      registers,
    });
    this.rtpPacketsLate = new Counter({ name: 'livestem_webrtc_rtp_packets_late_total', help: 'Input packets dropped for arriving after their slot (or duplicated)', registers });
    this.rtpPacketsReordered = new Counter({ name: 'livestem_webrtc_rtp_packets_reordered_total', help: 'Input packets that arrived after a gap and were held', registers });
    this.rtpPacketsSent = new Counter({ name: 'livestem_webrtc_rtp_packets_sent_total', help: 'Output RTP packets sent (all tracks)', registers });
    this.egressUnderrunFrames = new Counter({ name: 'livestem_webrtc_egress_underrun_frames_total', help: 'Output slots with no audio ready, sent as silence', registers });
    this.egressDroppedFrames = new Counter({ name: 'livestem_webrtc_egress_dropped_frames_total', help: 'Output frames dropped to bound the output delay (send queue over its bound, or a standing backlog trimmed), all tracks', registers });
    this.egressLateFrames = new Counter({ name: 'livestem_webrtc_egress_late_frames_total', help: 'Output slots whose frame was not complete at slot time (sent late or replaced by silence)', registers });
    this.egressTrimmedFrames = new Counter({ name: 'livestem_webrtc_egress_trimmed_frames_total', help: 'Output frames dropped because more than one frame stood queued in the pacer, all tracks', registers });
  }
}
