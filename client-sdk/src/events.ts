/**
 * A small typed event emitter whose events can also be consumed as async iterators. Works the same in Node and
 * browsers (no dependency on either's EventEmitter/EventTarget). Iterator queues are bounded: a consumer that falls
 * more than `maxQueued` items behind gets LIVESTEM_CLIENT_ITERATOR_OVERFLOW from its next `next()` instead of the
 * SDK buffering without limit.
 */
import { LivestemClientError } from './errors.ts';

type Listener<T> = (value: T) => void;

export const DEFAULT_ITERATOR_MAX_QUEUED = 4096;

export class TypedEvents<Events extends { [K in keyof Events]: unknown }> {
  #listeners = new Map<keyof Events, Set<Listener<never>>>();
  #ended = false;
  #enders = new Set<() => void>();

  on<K extends keyof Events>(event: K, listener: Listener<Events[K]>): () => void {
    let set = this.#listeners.get(event);
    if (set === undefined) {
      set = new Set();
      this.#listeners.set(event, set);
    }
    set.add(listener as Listener<never>);
    return () => this.off(event, listener);
  }

  once<K extends keyof Events>(event: K, listener: Listener<Events[K]>): () => void {
    const off = this.on(event, (value) => {
      off();
      listener(value);
    });
    return off;
  }

  off<K extends keyof Events>(event: K, listener: Listener<Events[K]>): void {
    this.#listeners.get(event)?.delete(listener as Listener<never>);
  }

  emit<K extends keyof Events>(event: K, value: Events[K]): void {
    const set = this.#listeners.get(event);
    if (set === undefined) return;
    for (const listener of [...set]) (listener as Listener<Events[K]>)(value);
  }

  listenerCount<K extends keyof Events>(event: K): number {
    return this.#listeners.get(event)?.size ?? 0;
  }

  /** Ends every open iterator (after it has yielded what it already queued). Further events are still emitted. */
  endIterators(): void {
    this.#ended = true;
    for (const end of [...this.#enders]) end();
  }

  /** Async iterator over one event; finishes when the source ends (session closed). */
  iterate<K extends keyof Events>(event: K, maxQueued = DEFAULT_ITERATOR_MAX_QUEUED): AsyncIterableIterator<Events[K]> {
    const queue: Events[K][] = [];
    let waiting: { resolve: (r: IteratorResult<Events[K]>) => void; reject: (e: unknown) => void } | undefined;
    let done = this.#ended;
    let overflow: LivestemClientError | undefined;
    const cleanup = (): void => {
      off();
      this.#enders.delete(finish);
    };
    const finish = (): void => {
      done = true;
      cleanup();
      if (waiting !== undefined && queue.length === 0) {
        waiting.resolve({ value: undefined, done: true });
        waiting = undefined;
      }
    };
    const off = this.on(event, (value) => {
      if (waiting !== undefined) {
        waiting.resolve({ value, done: false });
        waiting = undefined;
        return;
      }
      if (queue.length >= maxQueued) {
        overflow = new LivestemClientError(
          'LIVESTEM_CLIENT_ITERATOR_OVERFLOW',
          `iterator for "${String(event)}" fell ${maxQueued} items behind`,
        );
        finish();
        return;
      }
      queue.push(value);
    });
    this.#enders.add(finish);
    if (done) cleanup();
    const iterator: AsyncIterableIterator<Events[K]> = {
      next: () => {
        if (overflow !== undefined) return Promise.reject(overflow);
        const head = queue.shift();
        if (head !== undefined) return Promise.resolve({ value: head, done: false });
        if (done) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve, reject) => {
          waiting = { resolve, reject };
        });
      },
      return: () => {
        queue.length = 0;
        finish();
        return Promise.resolve({ value: undefined, done: true });
      },
      [Symbol.asyncIterator]() {
        return iterator;
      },
    };
    return iterator;
  }
}
