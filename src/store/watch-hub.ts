/**
 * In-process fan-out of committed writes to watchers, used by the embedded backends (memory,
 * sqlite). A backend registers a watcher together with the events it replayed from history in
 * the same synchronous step in which it read them, and publishes every later write right after
 * committing it, so each watcher sees each revision exactly once and in order.
 */
import { StoreError, type WatchEvent, type Watcher } from './backend.js';

interface Subscription extends Watcher {
  readonly prefix: string;
  push(event: WatchEvent): void;
  fail(err: StoreError): void;
}

export class WatchHub {
  private readonly subscriptions = new Set<Subscription>();

  /** Number of open watchers (for metrics and tests). */
  get size(): number {
    return this.subscriptions.size;
  }

  /**
   * Registers a watcher. `replay` is delivered first, as one batch; live events follow, batched
   * per microtask so a burst of writes reaches the watcher as few calls.
   */
  add(
    prefix: string,
    replay: WatchEvent[],
    onEvents: (events: WatchEvent[]) => void,
    onError?: (err: StoreError) => void,
  ): Watcher {
    const subscriptions = this.subscriptions;
    let queue: WatchEvent[] = replay.slice();
    let scheduled = false;
    let closed = false;
    const flush = (): void => {
      scheduled = false;
      if (closed || queue.length === 0) return;
      const batch = queue;
      queue = [];
      onEvents(batch);
    };
    const schedule = (): void => {
      if (scheduled) return;
      scheduled = true;
      queueMicrotask(flush);
    };
    const sub: Subscription = {
      prefix,
      push(event) {
        if (closed) return;
        queue.push(event);
        schedule();
      },
      fail(err) {
        if (closed) return;
        // Events committed before the failure are still delivered, then the error.
        flush();
        sub.close();
        onError?.(err);
      },
      close() {
        if (closed) return;
        closed = true;
        queue = [];
        subscriptions.delete(sub);
      },
    };
    subscriptions.add(sub);
    if (queue.length > 0) schedule();
    return sub;
  }

  /** Delivers one committed write to every watcher whose prefix covers its key. */
  publish(event: WatchEvent): void {
    const key = event.kv.key;
    for (const sub of this.subscriptions) {
      if (key.startsWith(sub.prefix)) sub.push(event);
    }
  }

  /** Breaks every watcher with `err` (each gets onError once, then is closed). */
  failAll(err: StoreError): void {
    for (const sub of [...this.subscriptions]) sub.fail(err);
  }
}
