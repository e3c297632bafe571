import { realClock, type Clock } from '../machinery/clock.js';

export interface WorkQueueOptions {
  /** First retry delay of a failing item; doubles per failure (client-go: 5 ms). */
  baseDelayMs?: number;
  /** Cap of the per-item delay (client-go: 1000 s). */
  maxDelayMs?: number;
  clock?: Clock;
}

/**
 * A rate-limited work queue with client-go's guarantees: an item is queued at most once, is
 * never handed to two workers at once (one added while it is processed is queued again when
 * `done` is called), and failing items come back after exponential per-item backoff.
 */
export class WorkQueue<T = string> {
  private readonly queue: T[] = [];
  private readonly dirty = new Set<T>();
  private readonly processing = new Set<T>();
  private readonly failures = new Map<T, number>();
  private readonly waiting = new Map<T, { at: number; cancel: () => void }>();
  private readonly waiters: Array<(item: T | undefined) => void> = [];
  private shuttingDown = false;
  private readonly clock: Clock;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;

  constructor(opts: WorkQueueOptions = {}) {
    this.clock = opts.clock ?? realClock;
    this.baseDelayMs = opts.baseDelayMs ?? 5;
    this.maxDelayMs = opts.maxDelayMs ?? 1_000_000;
  }

  add(item: T): void {
    if (this.shuttingDown || this.dirty.has(item)) return;
    this.dirty.add(item);
    if (this.processing.has(item)) return;
    const waiter = this.waiters.shift();
    if (waiter) {
      this.dirty.delete(item);
      this.processing.add(item);
      waiter(item);
    } else {
      this.queue.push(item);
    }
  }

  /** Adds the item after `ms`; if it is already waiting, the earlier of the two times wins. */
  addAfter(item: T, ms: number): void {
    if (this.shuttingDown) return;
    if (ms <= 0) return this.add(item);
    const at = this.clock.now().getTime() + ms;
    const prior = this.waiting.get(item);
    if (prior) {
      if (prior.at <= at) return;
      prior.cancel();
    }
    const cancel = this.clock.after(ms, () => {
      this.waiting.delete(item);
      this.add(item);
    });
    this.waiting.set(item, { at, cancel });
  }

  /** Requeues after the item's backoff: baseDelay × 2^failures, capped. */
  addRateLimited(item: T): void {
    const n = this.failures.get(item) ?? 0;
    this.failures.set(item, n + 1);
    this.addAfter(item, Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** n));
  }

  /** Clears the item's failure count (call after it succeeded). */
  forget(item: T): void {
    this.failures.delete(item);
  }

  numRequeues(item: T): number {
    return this.failures.get(item) ?? 0;
  }

  /** The next item; undefined once the queue shuts down. Call `done(item)` when finished with it. */
  get(): Promise<T | undefined> {
    if (this.queue.length) {
      const item = this.queue.shift()!;
      this.dirty.delete(item);
      this.processing.add(item);
      return Promise.resolve(item);
    }
    if (this.shuttingDown) return Promise.resolve(undefined);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  done(item: T): void {
    this.processing.delete(item);
    if (this.dirty.has(item)) {
      this.dirty.delete(item);
      this.add(item);
    }
  }

  get length(): number {
    return this.queue.length;
  }

  shutDown(): void {
    this.shuttingDown = true;
    for (const w of this.waiting.values()) w.cancel();
    this.waiting.clear();
    for (const w of this.waiters.splice(0)) w(undefined);
  }
}

/**
 * One worker of a queue, as client-go's processNextWorkItem loop: take an item, handle it, forget
 * its failures on success or add it back with backoff on failure, mark it done — until the queue
 * shuts down. It yields to the event loop between items: in-process writes can complete without
 * I/O, so a busy queue would otherwise run as one endless chain of microtasks and starve timers,
 * sockets and every other component.
 */
export async function runWorker<T>(queue: WorkQueue<T>, handle: (item: T) => Promise<void>, onError: (item: T, error: unknown) => void): Promise<void> {
  for (;;) {
    const item = await queue.get();
    if (item === undefined) return;
    try {
      await handle(item);
      queue.forget(item);
    } catch (e) {
      onError(item, e);
      queue.addRateLimited(item);
    } finally {
      queue.done(item);
    }
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}
