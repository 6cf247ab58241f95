/**
 * Mounts the WebRTC gateway on a livestem server (`startServer(config, { plugins: [webrtcPlugin()] })`).
 * ICE settings come from the options, else from the environment:
 *   LIVESTEM_ICE_SERVERS         comma-separated STUN/TURN URLs (TURN credentials: LIVESTEM_ICE_USERNAME/_CREDENTIAL)
 *   LIVESTEM_ICE_HOST_ADDRESSES  extra host candidates, comma-separated (default 127.0.0.1, for loopback)
 *   LIVESTEM_ICE_PORT_RANGE      e.g. 40000-40100 (open these UDP ports in a firewall)
 * These are env-only (no command-line flags); `--help` (server/config.ts) lists them, and a test checks that it names
 * every variable `iceOptionsFromEnv` reads.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ServerContext, ServerPlugin } from '../../server.ts';
import { DEFAULT_ICE, type IceOptions } from './rtc-peer.ts';
import { WebRtcGateway, webrtcTarget, type WebRtcGatewayOptions } from './webrtc-gateway.ts';

/**
 * The timeouts a mounted plugin uses unless its options say otherwise. Not command-line settings: `--help` and
 * docs/protocol.md §9 state them as fixed values (a test keeps those in step with these).
 */
export const WEBRTC_FIXED_TIMEOUTS = {
  /** No input RTP for this long ends a live stream (`stalled`). */
  stallTimeoutMs: 5000,
  /** No input RTP at all this long after the answer ends it (`no-media`). */
  mediaStartTimeoutMs: 15_000,
  /** DataChannel `stats` push interval. */
  statsIntervalMs: 1000,
  /** The whole `POST /v1/webrtc` body must arrive within this (else 408). */
  bodyTimeoutMs: 10_000,
  /** ICE candidate gathering for the (non-trickle) answer. */
  iceGatherTimeoutMs: DEFAULT_ICE.gatherTimeoutMs,
} as const;

export type WebRtcPluginOptions = Omit<WebRtcGatewayOptions, 'openSession' | 'access' | 'metrics' | 'log'> & {
  /** Receives the gateway once mounted (tests, admin). */
  onGateway?(gateway: WebRtcGateway): void;
};

export function iceOptionsFromEnv(env: NodeJS.ProcessEnv): Partial<IceOptions> {
  const ice: Partial<IceOptions> = {};
  const list = (v: string | undefined): string[] =>
    (v ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s.length > 0);
  const servers = list(env['LIVESTEM_ICE_SERVERS']);
  if (servers.length > 0) {
    const username = env['LIVESTEM_ICE_USERNAME'];
    const credential = env['LIVESTEM_ICE_CREDENTIAL'];
    ice.iceServers = servers.map((urls) => ({
      urls,
      ...(username !== undefined ? { username } : {}),
      ...(credential !== undefined ? { credential } : {}),
    }));
  }
  const hosts = env['LIVESTEM_ICE_HOST_ADDRESSES'];
  if (hosts !== undefined) ice.iceAdditionalHostAddresses = list(hosts);
  const range = /^(\d+)-(\d+)$/.exec(env['LIVESTEM_ICE_PORT_RANGE'] ?? '');
  if (range !== null) ice.icePortRange = [Number(range[1]), Number(range[2])];
  return ice;
}

export function webrtcPlugin(options: WebRtcPluginOptions = {}): (ctx: ServerContext) => ServerPlugin {
  return (ctx) => {
    const { onGateway, ...rest } = options;
    const fixed = WEBRTC_FIXED_TIMEOUTS;
    const gateway = new WebRtcGateway({
      stallTimeoutMs: fixed.stallTimeoutMs,
      mediaStartTimeoutMs: fixed.mediaStartTimeoutMs,
      statsIntervalMs: fixed.statsIntervalMs,
      bodyTimeoutMs: fixed.bodyTimeoutMs,
      ...rest,
      ice: { ...iceOptionsFromEnv(process.env), ...rest.ice },
      openSession: (connection) => {
        ctx.openSession(connection);
      },
      access: ctx.access,
      metrics: ctx.metrics,
      log: ctx.log.child({ transport: 'webrtc' }),
    });
    onGateway?.(gateway);
    const inFlight = new Set<Promise<boolean>>();
    return {
      handle(req: IncomingMessage, res: ServerResponse): boolean {
        // The gateway's own matcher: a different notion of "our path" would leave claimed requests unanswered.
        if (webrtcTarget(req.url) === undefined) return false;
        // handleHttp answers every failure itself (catalog error body) and never rejects; the catch is a last resort
        // against an unhandled rejection. The promise is kept so close() can await it.
        const handling = gateway
          .handleHttp(req, res)
          .then(
            () => true,
            () => {
              res.destroy();
              return true;
            },
          )
          .finally(() => inFlight.delete(handling));
        inFlight.add(handling);
        return true;
      },
      control: {
        types: ['webrtc-offer'],
        answer: async (text, remoteAddress) => JSON.stringify(await gateway.answerControlMessage(text, remoteAddress)),
      },
      async close(): Promise<void> {
        await Promise.allSettled([...inFlight]);
        await gateway.close('shutdown');
      },
    };
  };
}
