/**
 * An in-memory Backend for unit tests: the whole history of every key is kept until compaction,
 * so reads at older revisions and watches from older revisions behave as on etcd. Returned
 * KeyValues are frozen because they are the stored history itself.
 */
import {
  StoreError,
  type Backend,
  type KeyValue,
  type ListOptions,
  type ListResult,
  type WatchEvent,
  type Watcher,
} from './backend.js';
import { compareKeys } from './key-range.js';
import { WatchHub } from './watch-hub.js';

/** One version of a key: its value from `rev` on, or a tombstone (`kv` undefined). */
interface Version {
  rev: number;
  kv: KeyValue | undefined;
}

export class MemoryBackend implements Backend {
  private rev = 0;
  private compacted = 0;
  /** Every key that has a version in history, sorted in byte order. */
  private keys: string[] = [];
  private readonly history = new Map<string, Version[]>();
  /** One event per revision, ascending, since the compact revision. */
  private log: { rev: number; event: WatchEvent }[] = [];
  private readonly hub = new WatchHub();
  private closed = false;

  async start(): Promise<void> {}

  async close(): Promise<void> {
    this.closed = true;
    this.hub.failAll(new StoreError('Unavailable', 'store closed'));
  }

  async currentRevision(): Promise<number> {
    return this.rev;
  }

  async compactRevision(): Promise<number> {
    return this.compacted;
  }

  async get(key: string, revision?: number): Promise<KeyValue | undefined> {
    const rev = this.readRevision(revision);
    return this.valueAt(key, rev);
  }

  async list(prefix: string, options: ListOptions = {}): Promise<ListResult> {
    const rev = this.readRevision(options.revision);
    const limit = options.limit && options.limit > 0 ? options.limit : Infinity;
    const from = options.startKey !== undefined && compareKeys(options.startKey, prefix) > 0 ? options.startKey : prefix;
    const items: KeyValue[] = [];
    let remaining = 0;
    for (let i = this.lowerBound(from); i < this.keys.length; i++) {
      const key = this.keys[i] as string;
      if (!key.startsWith(prefix)) break;
      const kv = this.valueAt(key, rev);
      if (!kv) continue;
      if (items.length < limit) items.push(kv);
      else remaining++;
    }
    return remaining > 0 ? { items, revision: rev, more: true, remaining } : { items, revision: rev, more: false };
  }

  async count(prefix: string): Promise<number> {
    let n = 0;
    for (let i = this.lowerBound(prefix); i < this.keys.length; i++) {
      const key = this.keys[i] as string;
      if (!key.startsWith(prefix)) break;
      if (this.valueAt(key, this.rev)) n++;
    }
    return n;
  }

  async create(key: string, value: string): Promise<KeyValue> {
    this.ensureOpen();
    const current = this.valueAt(key, this.rev);
    if (current) throw new StoreError('KeyExists', `key ${key} already exists`, current);
    const rev = this.rev + 1;
    const kv: KeyValue = Object.freeze({ key, value, createRevision: rev, modRevision: rev });
    this.append(key, { rev, kv }, { type: 'put', kv });
    return kv;
  }

  async update(key: string, value: string, expectedModRevision: number): Promise<KeyValue> {
    this.ensureOpen();
    const current = this.valueAt(key, this.rev);
    if (!current) throw new StoreError('NotFound', `key ${key} not found`);
    if (current.modRevision !== expectedModRevision) {
      throw new StoreError('Conflict', `key ${key} is at revision ${current.modRevision}, not ${expectedModRevision}`, current);
    }
    const rev = this.rev + 1;
    const kv: KeyValue = Object.freeze({ key, value, createRevision: current.createRevision, modRevision: rev });
    this.append(key, { rev, kv }, { type: 'put', kv, prevKv: current });
    return kv;
  }

  async delete(key: string, expectedModRevision?: number): Promise<KeyValue> {
    this.ensureOpen();
    const current = this.valueAt(key, this.rev);
    if (!current) throw new StoreError('NotFound', `key ${key} not found`);
    if (expectedModRevision !== undefined && current.modRevision !== expectedModRevision) {
      throw new StoreError('Conflict', `key ${key} is at revision ${current.modRevision}, not ${expectedModRevision}`, current);
    }
    const rev = this.rev + 1;
    const kv: KeyValue = Object.freeze({ ...current, modRevision: rev });
    this.append(key, { rev, kv: undefined }, { type: 'delete', kv, prevKv: current });
    return kv;
  }

  async watch(
    prefix: string,
    afterRevision: number,
    onEvents: (events: WatchEvent[]) => void,
    onError?: (err: StoreError) => void,
  ): Promise<Watcher> {
    this.ensureOpen();
    this.checkRevision(afterRevision);
    const replay: WatchEvent[] = [];
    for (let i = this.firstLogIndexAfter(afterRevision); i < this.log.length; i++) {
      const entry = this.log[i] as { rev: number; event: WatchEvent };
      if (entry.event.kv.key.startsWith(prefix)) replay.push(entry.event);
    }
    return this.hub.add(prefix, replay, onEvents, onError);
  }

  async compact(revision: number): Promise<void> {
    if (revision <= this.compacted) return;
    if (revision > this.rev) throw new StoreError('FutureRevision', `revision ${revision} is newer than ${this.rev}`);
    const emptied = new Set<string>();
    for (const [key, versions] of this.history) {
      // Keep the newest version at or below `revision` (the state there) unless it is a tombstone.
      let keepFrom = upperBoundRev(versions, revision) - 1;
      if (keepFrom < 0) continue;
      if (versions[keepFrom]?.kv === undefined) keepFrom++;
      if (keepFrom > 0) versions.splice(0, keepFrom);
      if (versions.length === 0) emptied.add(key);
    }
    if (emptied.size > 0) {
      for (const key of emptied) this.history.delete(key);
      this.keys = this.keys.filter((k) => !emptied.has(k));
    }
    this.log = this.log.slice(this.firstLogIndexAfter(revision));
    this.compacted = revision;
  }

  private append(key: string, version: Version, event: WatchEvent): void {
    let versions = this.history.get(key);
    if (!versions) {
      versions = [];
      this.history.set(key, versions);
      this.keys.splice(this.lowerBound(key), 0, key);
    }
    versions.push(version);
    this.rev = version.rev;
    this.log.push({ rev: version.rev, event });
    this.hub.publish(event);
  }

  private valueAt(key: string, rev: number): KeyValue | undefined {
    const versions = this.history.get(key);
    if (!versions) return undefined;
    const i = upperBoundRev(versions, rev) - 1;
    return i >= 0 ? versions[i]?.kv : undefined;
  }

  /** Validates a read revision; 0 or absent means the current one. */
  private readRevision(revision: number | undefined): number {
    if (!revision) return this.rev;
    this.checkRevision(revision);
    return revision;
  }

  private checkRevision(revision: number): void {
    if (revision > this.rev) throw new StoreError('FutureRevision', `revision ${revision} is newer than ${this.rev}`);
    if (revision < this.compacted) {
      throw new StoreError('Compacted', `revision ${revision} has been compacted`, undefined, this.compacted);
    }
  }

  private ensureOpen(): void {
    if (this.closed) throw new StoreError('Unavailable', 'store closed');
  }

  private lowerBound(key: string): number {
    let lo = 0;
    let hi = this.keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareKeys(this.keys[mid] as string, key) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private firstLogIndexAfter(rev: number): number {
    let lo = 0;
    let hi = this.log.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.log[mid] as { rev: number }).rev <= rev) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

/** Index of the first version whose rev is greater than `rev`. */
function upperBoundRev(versions: Version[], rev: number): number {
  let lo = 0;
  let hi = versions.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((versions[mid] as Version).rev <= rev) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
