const CLOSE_NORMAL = 1000;
const CLOSE_GOING_AWAY = 1001;
export function isTerminal(state) {
    return state.kind === 'closed' || state.kind === 'failed';
}
/** Whether the session has a transport it can send on. */
export function isAttached(state) {
    return state.kind === 'starting' || state.kind === 'streaming' || state.kind === 'draining';
}
function fail(state, code, message, closeCode) {
    const effects = [{ type: 'cancel-idle-timer' }, { type: 'cancel-grace-timer' }];
    if (isAttached(state)) {
        effects.push({ type: 'send-error', code, message }, { type: 'close-transport', code: closeCode, reason: code });
    }
    effects.push({ type: 'release', outcome: code });
    return { state: { kind: 'failed', code }, effects };
}
const stay = (state) => ({ state, effects: [] });
/**
 * `closeCodeFor` maps an error code to its WebSocket close code (the catalog), injected to keep this table free of
 * the catalog's details and trivially testable.
 */
export function transition(state, event, closeCodeFor) {
    if (isTerminal(state))
        return stay(state);
    if (event.type === 'fail')
        return fail(state, event.code, event.message, closeCodeFor(event.code));
    switch (state.kind) {
        case 'starting':
            switch (event.type) {
                case 'start-accepted':
                    return { state: { kind: 'streaming' }, effects: [{ type: 'send-ready' }, { type: 'arm-idle-timer' }] };
                case 'handed-off':
                    // The connection now belongs to the resumed session: this placeholder ends without touching it.
                    return { state: { kind: 'closed', outcome: 'handed-off' }, effects: [{ type: 'cancel-idle-timer' }, { type: 'release', outcome: 'handed-off' }] };
                case 'transport-lost':
                    return { state: { kind: 'closed', outcome: 'abandoned' }, effects: [{ type: 'cancel-idle-timer' }, { type: 'release', outcome: 'abandoned' }] };
                case 'idle-timeout':
                    return fail(state, 'LIVESTEM_ERR_IDLE_TIMEOUT', 'no start or resume message in time', closeCodeFor('LIVESTEM_ERR_IDLE_TIMEOUT'));
                default:
                    return fail(state, 'LIVESTEM_ERR_BAD_MESSAGE', `the first message must be start or resume`, closeCodeFor('LIVESTEM_ERR_BAD_MESSAGE'));
            }
        case 'streaming':
            switch (event.type) {
                case 'client-message':
                    return { state, effects: [{ type: 'arm-idle-timer' }] };
                case 'end-requested':
                    return { state: { kind: 'draining', reason: 'end' }, effects: [{ type: 'cancel-idle-timer' }, { type: 'begin-drain' }] };
                case 'shutdown-deadline':
                    return { state: { kind: 'draining', reason: 'shutdown' }, effects: [{ type: 'cancel-idle-timer' }, { type: 'begin-drain' }] };
                case 'transport-lost':
                    return { state: { kind: 'detached' }, effects: [{ type: 'cancel-idle-timer' }, { type: 'arm-grace-timer' }] };
                case 'resumed':
                    // A resume while still attached (the old connection's loss not noticed yet) takes the session over.
                    return { state, effects: [{ type: 'send-resumed' }, { type: 'arm-idle-timer' }] };
                case 'idle-timeout':
                    return fail(state, 'LIVESTEM_ERR_IDLE_TIMEOUT', 'no message received within the idle timeout', closeCodeFor('LIVESTEM_ERR_IDLE_TIMEOUT'));
                default:
                    return fail(state, 'LIVESTEM_ERR_BAD_MESSAGE', `unexpected ${event.type} while streaming`, closeCodeFor('LIVESTEM_ERR_BAD_MESSAGE'));
            }
        case 'detached':
            switch (event.type) {
                case 'resumed':
                    return { state: { kind: 'streaming' }, effects: [{ type: 'cancel-grace-timer' }, { type: 'send-resumed' }, { type: 'arm-idle-timer' }] };
                case 'grace-expired':
                case 'shutdown-deadline':
                    return { state: { kind: 'closed', outcome: 'abandoned' }, effects: [{ type: 'cancel-grace-timer' }, { type: 'release', outcome: 'abandoned' }] };
                default:
                    return stay(state);
            }
        case 'draining':
            switch (event.type) {
                case 'drained': {
                    const closeCode = state.reason === 'end' ? CLOSE_NORMAL : CLOSE_GOING_AWAY;
                    const outcome = state.reason === 'end' ? 'done' : 'shutdown';
                    return {
                        state: { kind: 'closed', outcome },
                        effects: [
                            { type: 'send-done', reason: state.reason },
                            { type: 'close-transport', code: closeCode, reason: outcome },
                            { type: 'release', outcome },
                        ],
                    };
                }
                case 'transport-lost':
                    // After `end` the client has said it is finished; a drop now abandons the tail (documented).
                    return { state: { kind: 'closed', outcome: 'abandoned' }, effects: [{ type: 'release', outcome: 'abandoned' }] };
                case 'client-message':
                case 'shutdown-deadline':
                    return stay(state);
                default:
                    return fail(state, 'LIVESTEM_ERR_BAD_MESSAGE', `unexpected ${event.type} after end`, closeCodeFor('LIVESTEM_ERR_BAD_MESSAGE'));
            }
        default:
            return stay(state);
    }
}
//# sourceMappingURL=session-state.js.map