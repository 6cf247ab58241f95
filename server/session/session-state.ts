/**
 * A session's lifecycle as one pure transition table: transition(state, event) → { state, effects }.
 * Timers and I/O are effects that session.ts performs; nothing here reads a clock or touches a socket.
 *
 *   starting ──start──▶ streaming ──end──▶ draining ──drained──▶ closed
 *      │                  │   ▲                                     ▲
 *      │ handoff           │   └──resume── detached ──grace over─────┘
 *      ▼                  └──transport lost──▶ ┘
 *   closed            any non-terminal ──fail──▶ failed
 *
 * `closed` and `failed` are absorbing: every event there yields no effects (close() is idempotent).
 */
import type { ErrorCode } from '../errors.ts';

export type SessionState =
  | { kind: 'starting' }
  | { kind: 'streaming' }
  | { kind: 'detached' }
  | { kind: 'draining'; reason: 'end' | 'shutdown' }
  | { kind: 'closed'; outcome: 'done' | 'shutdown' | 'abandoned' | 'handed-off' }
  | { kind: 'failed'; code: ErrorCode };

export type SessionEvent =
  | { type: 'start-accepted' }
  | { type: 'handed-off' }
  | { type: 'resumed' }
  | { type: 'client-message' }
  | { type: 'end-requested' }
  | { type: 'shutdown-deadline' }
  | { type: 'drained' }
  | { type: 'transport-lost' }
  | { type: 'grace-expired' }
  | { type: 'idle-timeout' }
  | { type: 'fail'; code: ErrorCode; message: string };

export type SessionEffect =
  | { type: 'send-ready' }
  | { type: 'send-resumed' }
  | { type: 'arm-idle-timer' }
  | { type: 'cancel-idle-timer' }
  | { type: 'arm-grace-timer' }
  | { type: 'cancel-grace-timer' }
  | { type: 'begin-drain' }
  | { type: 'send-done'; reason: 'end' | 'shutdown' }
  | { type: 'send-error'; code: ErrorCode; message: string }
  | { type: 'close-transport'; code: number; reason: string }
  | { type: 'release'; outcome: string };

export interface Transition {
  state: SessionState;
  effects: SessionEffect[];
}

const CLOSE_NORMAL = 1000;
const CLOSE_GOING_AWAY = 1001;

export function isTerminal(state: SessionState): boolean {
  return state.kind === 'closed' || state.kind === 'failed';
}

/** Whether the session has a transport it can send on. */
export function isAttached(state: SessionState): boolean {
  return state.kind === 'starting' || state.kind === 'streaming' || state.kind === 'draining';
}

function fail(state: SessionState, code: ErrorCode, message: string, closeCode: number): Transition {
  const effects: SessionEffect[] = [{ type: 'cancel-idle-timer' }, { type: 'cancel-grace-timer' }];
  if (isAttached(state)) {
    effects.push({ type: 'send-error', code, message }, { type: 'close-transport', code: closeCode, reason: code });
  }
  effects.push({ type: 'release', outcome: code });
  return { state: { kind: 'failed', code }, effects };
}

const stay = (state: SessionState): Transition => ({ state, effects: [] });

/**
 * `closeCodeFor` maps an error code to its WebSocket close code (the catalog), injected to keep this table free of
 * the catalog's details and trivially testable.
 */
export function transition(state: SessionState, event: SessionEvent, closeCodeFor: (code: ErrorCode) => number): Transition {
  if (isTerminal(state)) return stay(state);
  if (event.type === 'fail') return fail(state, event.code, event.message, closeCodeFor(event.code));

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
