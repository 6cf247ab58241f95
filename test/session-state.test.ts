import t from 'tap';
import { ERROR_CATALOG } from '../server/errors.ts';
import { isTerminal, transition, type SessionEvent, type SessionState } from '../server/session/session-state.ts';

const closeCode = (code: keyof typeof ERROR_CATALOG): number => ERROR_CATALOG[code].closeCode;
const step = (state: SessionState, event: SessionEvent) => transition(state, event, closeCode);
const types = (effects: { type: string }[]): string[] => effects.map((e) => e.type);

t.test('happy path: start → stream → end → drained closes 1000 after done', async (t) => {
  let r = step({ kind: 'starting' }, { type: 'start-accepted' });
  t.same(r.state, { kind: 'streaming' });
  t.same(types(r.effects), ['send-ready', 'arm-idle-timer']);
  r = step(r.state, { type: 'client-message' });
  t.same(types(r.effects), ['arm-idle-timer'], 'every message re-arms the idle timer');
  r = step(r.state, { type: 'end-requested' });
  t.same(r.state, { kind: 'draining', reason: 'end' });
  t.same(types(r.effects), ['cancel-idle-timer', 'begin-drain']);
  r = step(r.state, { type: 'drained' });
  t.same(r.state, { kind: 'closed', outcome: 'done' });
  t.same(r.effects, [
    { type: 'send-done', reason: 'end' },
    { type: 'close-transport', code: 1000, reason: 'done' },
    { type: 'release', outcome: 'done' },
  ]);
});

t.test('drop → detached (grace timer) → resumed, or → grace expired → closed', async (t) => {
  const detached = step({ kind: 'streaming' }, { type: 'transport-lost' });
  t.same(detached.state, { kind: 'detached' });
  t.same(types(detached.effects), ['cancel-idle-timer', 'arm-grace-timer']);
  const resumed = step(detached.state, { type: 'resumed' });
  t.same(resumed.state, { kind: 'streaming' });
  t.same(types(resumed.effects), ['cancel-grace-timer', 'send-resumed', 'arm-idle-timer']);
  const expired = step(detached.state, { type: 'grace-expired' });
  t.same(expired.state, { kind: 'closed', outcome: 'abandoned' });
  t.same(types(expired.effects), ['cancel-grace-timer', 'release']);
  const fail = step(detached.state, { type: 'fail', code: 'LIVESTEM_ERR_INFERENCE_FAILED', message: 'x' });
  t.same(types(fail.effects), ['cancel-idle-timer', 'cancel-grace-timer', 'release'], 'no send on a detached session');
});

t.test('failures send the error then close with the catalog code', async (t) => {
  const r = step({ kind: 'streaming' }, { type: 'fail', code: 'LIVESTEM_ERR_NON_FINITE_SAMPLES', message: 'NaN' });
  t.same(r.state, { kind: 'failed', code: 'LIVESTEM_ERR_NON_FINITE_SAMPLES' });
  t.same(r.effects.slice(2), [
    { type: 'send-error', code: 'LIVESTEM_ERR_NON_FINITE_SAMPLES', message: 'NaN' },
    { type: 'close-transport', code: 4422, reason: 'LIVESTEM_ERR_NON_FINITE_SAMPLES' },
    { type: 'release', outcome: 'LIVESTEM_ERR_NON_FINITE_SAMPLES' },
  ]);
  const idle = step({ kind: 'starting' }, { type: 'idle-timeout' });
  t.same(idle.state, { kind: 'failed', code: 'LIVESTEM_ERR_IDLE_TIMEOUT' });
  const early = step({ kind: 'starting' }, { type: 'end-requested' });
  t.same(early.state, { kind: 'failed', code: 'LIVESTEM_ERR_BAD_MESSAGE' }, 'anything but start/resume first is a bad message');
});

t.test('shutdown: streaming drains with reason shutdown and closes 1001; detached sessions just end', async (t) => {
  const r = step({ kind: 'streaming' }, { type: 'shutdown-deadline' });
  t.same(r.state, { kind: 'draining', reason: 'shutdown' });
  const done = step(r.state, { type: 'drained' });
  t.same(done.effects[1], { type: 'close-transport', code: 1001, reason: 'shutdown' });
  t.same(step({ kind: 'detached' }, { type: 'shutdown-deadline' }).state, { kind: 'closed', outcome: 'abandoned' });
  t.same(step({ kind: 'draining', reason: 'end' }, { type: 'shutdown-deadline' }).effects, [], 'a session already ending is left to finish');
});

t.test('terminal states absorb every event with no effects (close is idempotent)', async (t) => {
  const events: SessionEvent[] = [
    { type: 'start-accepted' },
    { type: 'resumed' },
    { type: 'transport-lost' },
    { type: 'drained' },
    { type: 'idle-timeout' },
    { type: 'fail', code: 'LIVESTEM_ERR_INTERNAL', message: 'x' },
  ];
  for (const state of [{ kind: 'closed', outcome: 'done' }, { kind: 'failed', code: 'LIVESTEM_ERR_INTERNAL' }] as SessionState[]) {
    t.ok(isTerminal(state));
    for (const event of events) t.same(step(state, event), { state, effects: [] }, `${state.kind} + ${event.type}`);
  }
});

t.test('a placeholder handed to a resumed session ends without touching the connection', async (t) => {
  const r = step({ kind: 'starting' }, { type: 'handed-off' });
  t.same(r.state, { kind: 'closed', outcome: 'handed-off' });
  t.notOk(types(r.effects).includes('close-transport'));
});
