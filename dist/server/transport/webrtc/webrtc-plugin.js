import { WebRtcGateway, webrtcTarget } from "./webrtc-gateway.js";
export function iceOptionsFromEnv(env) {
    const ice = {};
    const list = (v) => (v ?? '')
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
    if (hosts !== undefined)
        ice.iceAdditionalHostAddresses = list(hosts);
    const range = /^(\d+)-(\d+)$/.exec(env['LIVESTEM_ICE_PORT_RANGE'] ?? '');
    if (range !== null)
        ice.icePortRange = [Number(range[1]), Number(range[2])];
    return ice;
}
export function webrtcPlugin(options = {}) {
    return (ctx) => {
        const { onGateway, ...rest } = options;
        const gateway = new WebRtcGateway({
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
        const inFlight = new Set();
        return {
            handle(req, res) {
                // The gateway's own matcher: a different notion of "our path" would leave claimed requests unanswered.
                if (webrtcTarget(req.url) === undefined)
                    return false;
                // handleHttp answers every failure itself (catalog error body) and never rejects; the catch is a last resort
                // against an unhandled rejection. The promise is kept so close() can await it.
                const handling = gateway
                    .handleHttp(req, res)
                    .then(() => true, () => {
                    res.destroy();
                    return true;
                })
                    .finally(() => inFlight.delete(handling));
                inFlight.add(handling);
                return true;
            },
            control: {
                types: ['webrtc-offer'],
                answer: async (text, remoteAddress) => JSON.stringify(await gateway.answerControlMessage(text, remoteAddress)),
            },
            async close() {
                await Promise.allSettled([...inFlight]);
                await gateway.close('shutdown');
            },
        };
    };
}
//# sourceMappingURL=webrtc-plugin.js.map