import type { Backend, WatchEvent, Watcher } from '../../store/backend.js';
import { StoreError } from '../../store/backend.js';
import { StatusError, gone } from '../../machinery/status-error.js';
import type { KubeObject } from './strategy.js';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

export interface CacheEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  revision: number;
  object: KubeObject;
  /** The object before this event (MODIFIED/DELETED). */
  prev?: KubeObject;
}

/** Decides whether a watcher sees an object (namespace, label and field selectors). */
export type ObjectFilter = (obj: KubeObject) => boolean;

export interface CacheWatcher {
  /** Receives events in revision order; returns false when the consumer is gone. */
  send(type: WatchEventType, object: KubeObject): void;
  /** Called when the cache can no longer serve this watcher (e.g. the store watch broke). */
  fail(err: StatusError): void;
}

interface Registration {
  filter: ObjectFilter;
  after: number;
  sink: CacheWatcher;
}

/**
 * One per resource, like Kubernetes' cacher: a single store watch whose events fan out to every
 * API watch of that resource, with a window of recent events so that watches can resume from a
 * recent resourceVersion without touching the store.
 */
export class WatchCache {
  private readonly objects = new Map<string, KubeObject>();
  private readonly window: CacheEvent[] = [];
  /** Every event with revision > windowStart is in `window`. */
  private windowStart = 0;
  private revision = 0;
  private readonly registrations = new Set<Registration>();
  private storeWatch: Watcher | undefined;
  private ready: Promise<void> | undefined;

  constructor(
    private readonly backend: Backend,
    private readonly prefix: string,
    private readonly decode: (value: string, modRevision: number) => KubeObject,
    private readonly capacity = 4096,
  ) {}

  /** Lists and starts watching the store, once. */
  start(): Promise<void> {
    this.ready ??= this.load();
    return this.ready;
  }

  private async load(): Promise<void> {
    const listed = await this.backend.list(this.prefix);
    for (const kv of listed.items) this.objects.set(kv.key, this.decode(kv.value, kv.modRevision));
    this.revision = listed.revision;
    this.windowStart = listed.revision;
    this.storeWatch = await this.backend.watch(this.prefix, listed.revision, (events) => this.onStoreEvents(events), (err) => this.onStoreError(err));
  }

  private onStoreEvents(events: WatchEvent[]): void {
    for (const e of events) {
      if (e.kv.modRevision <= this.revision) continue;
      const prev = this.objects.get(e.kv.key);
      let event: CacheEvent;
      if (e.type === 'put') {
        const object = this.decode(e.kv.value, e.kv.modRevision);
        this.objects.set(e.kv.key, object);
        event = prev ? { type: 'MODIFIED', revision: e.kv.modRevision, object, prev } : { type: 'ADDED', revision: e.kv.modRevision, object };
      } else {
        const object = this.decode(e.kv.value, e.kv.modRevision);
        this.objects.delete(e.kv.key);
        event = { type: 'DELETED', revision: e.kv.modRevision, object, prev };
      }
      this.revision = e.kv.modRevision;
      this.window.push(event);
      if (this.window.length > this.capacity) {
        const dropped = this.window.splice(0, this.window.length - this.capacity);
        this.windowStart = dropped[dropped.length - 1]!.revision;
      }
      for (const reg of this.registrations) deliver(reg, event);
    }
  }

  private onStoreError(err: StoreError): void {
    // The store watch broke (etcd compaction or connection loss): every watcher must relist.
    const status = gone(`watch of ${this.prefix} ended: ${err.message}`);
    for (const reg of this.registrations) reg.sink.fail(status);
    this.registrations.clear();
    this.objects.clear();
    this.window.length = 0;
    this.ready = undefined;
    this.storeWatch = undefined;
  }

  /** One object by its store key, as the cache has it (after `start()`). */
  getByKey(key: string): KubeObject | undefined {
    return this.objects.get(key);
  }

  /** The newest revision this cache has seen for its resource. */
  get currentRevision(): number {
    return this.revision;
  }

  /** Current objects matching the filter (what a `resourceVersion=0` list returns). */
  snapshot(filter: ObjectFilter): { items: KubeObject[]; revision: number } {
    const items: KubeObject[] = [];
    for (const [, obj] of [...this.objects.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) if (filter(obj)) items.push(obj);
    return { items, revision: this.revision };
  }

  /**
   * Starts a watch. `after` undefined or 0 with `initial`: the current state arrives first as
   * ADDED events. Otherwise events with revision > `after` are sent; an `after` older than the
   * cache window fails with 410 Expired, as Kubernetes' cacher does.
   */
  async watch(after: number, filter: ObjectFilter, sink: CacheWatcher, initial: boolean): Promise<{ stop(): void; initialRevision: number }> {
    await this.start();
    const reg: Registration = { filter, after: 0, sink };
    if (initial) {
      const snap = this.snapshot(filter);
      for (const obj of snap.items) sink.send('ADDED', obj);
      reg.after = snap.revision;
    } else {
      if (after < this.windowStart) {
        throw new StatusError(410, 'Expired', `too old resource version: ${after} (${this.windowStart})`);
      }
      reg.after = after;
      for (const event of this.window) if (event.revision > after) deliver(reg, event);
    }
    this.registrations.add(reg);
    return {
      stop: () => {
        this.registrations.delete(reg);
      },
      initialRevision: Math.max(reg.after, this.revision),
    };
  }

  get watcherCount(): number {
    return this.registrations.size;
  }

  /** Stops the store watch and ends every API watch, so clients reconnect (and relist). */
  close(): void {
    this.storeWatch?.close();
    const ended = gone(`the watch of ${this.prefix} was closed`);
    for (const reg of this.registrations) reg.sink.fail(ended);
    this.registrations.clear();
  }
}

function deliver(reg: Registration, event: CacheEvent): void {
  if (event.revision <= reg.after) return;
  const now = reg.filter(event.object);
  const before = event.prev ? reg.filter(event.prev) : false;
  if (event.type === 'ADDED') {
    if (now) reg.sink.send('ADDED', event.object);
  } else if (event.type === 'MODIFIED') {
    if (now && before) reg.sink.send('MODIFIED', event.object);
    else if (now) reg.sink.send('ADDED', event.object);
    else if (before) reg.sink.send('DELETED', event.object);
  } else if (now || before) {
    reg.sink.send('DELETED', event.object);
  }
}

export { StoreError };
