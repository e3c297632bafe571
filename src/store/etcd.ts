/**
 * The etcd v3 backend, for clusters that outgrow one machine: every Backend call is one etcd
 * request (a transaction for compare-and-swap writes), so etcd's revisions are ours unchanged.
 *
 * Differences from the embedded backends, all inherent to etcd:
 * - an empty etcd is at revision 1, not 0;
 * - etcd does not report its compact revision, so `compactRevision()` finds it by probing reads;
 * - a delete event whose previous value was already compacted has an empty value.
 */
import { Etcd3, type IKeyValue, type IResponseHeader, type IRequestOp, type Watcher as EtcdWatcher } from 'etcd3';
import {
  StoreError,
  type Backend,
  type KeyValue,
  type ListOptions,
  type ListResult,
  type WatchEvent,
  type Watcher,
} from './backend.js';

export interface EtcdBackendOptions {
  /** Deadline of each unary request (default 10 s); a request past it fails with Unavailable. */
  requestTimeoutMs?: number;
  /** How long to wait for a connection (default 5 s). */
  dialTimeoutMs?: number;
}

/** Keys read per range request when a list has no limit of its own. */
const listPageSize = 1000;

export class EtcdBackend implements Backend {
  private client: Etcd3 | undefined;
  private compacted = 0;
  private autoCompactTimer: NodeJS.Timeout | undefined;
  private readonly watchers = new Set<{ cancel(): Promise<void>; fail(err: StoreError): void }>();

  /** @param endpoints client URLs such as `http://127.0.0.1:2379` (https needs credentials: not yet supported). */
  constructor(
    readonly endpoints: string[],
    private readonly options: EtcdBackendOptions = {},
  ) {
    if (endpoints.length === 0) throw new Error('EtcdBackend needs at least one endpoint');
  }

  async start(): Promise<void> {
    if (this.client) return;
    const timeout = this.options.requestTimeoutMs ?? 10_000;
    this.client = new Etcd3({
      hosts: this.endpoints,
      dialTimeout: this.options.dialTimeoutMs ?? 5_000,
      // As kube-apiserver does: no client-side cap on answer size (etcd's own request limit still applies).
      grpcOptions: { 'grpc.max_receive_message_length': 2 ** 31 - 1 },
      defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + timeout }),
    });
    try {
      await this.currentRevision();
    } catch (err) {
      this.client.close();
      this.client = undefined;
      throw err;
    }
  }

  async close(): Promise<void> {
    this.stopAutoCompaction();
    const client = this.client;
    if (!client) return;
    this.client = undefined;
    const closing = [...this.watchers].map((w) => {
      w.fail(new StoreError('Unavailable', 'store closed'));
      return w.cancel().catch(() => undefined);
    });
    // Cancelling needs a round trip; do not hang on an unreachable etcd.
    await Promise.race([Promise.all(closing), delay(2000)]);
    client.close();
  }

  async currentRevision(): Promise<number> {
    const res = await this.call((c) => c.kv.range({ key: ZERO, count_only: true }));
    return revisionOf(res.header);
  }

  /**
   * The oldest readable revision: the last compaction we did, or, when someone else compacted
   * further, the lowest revision etcd still serves (found by bisection over reads).
   */
  async compactRevision(): Promise<number> {
    const current = await this.currentRevision();
    let lo = Math.max(this.compacted, 1);
    if (await this.readable(lo)) return this.compacted;
    let hi = current; // always readable
    while (hi - lo > 1) {
      const mid = Math.floor((lo + hi) / 2);
      if (await this.readable(mid)) hi = mid;
      else lo = mid;
    }
    this.compacted = Math.max(this.compacted, hi);
    return hi;
  }

  async get(key: string, revision?: number): Promise<KeyValue | undefined> {
    const res = await this.call((c) => c.kv.range({ key: Buffer.from(key), revision: revision ?? 0 }));
    const kv = res.kvs[0];
    return kv ? toKv(kv) : undefined;
  }

  async list(prefix: string, options: ListOptions = {}): Promise<ListResult> {
    const limit = options.limit && options.limit > 0 ? options.limit : 0;
    if (!limit) return this.listAll(prefix, options);
    return this.listPage(prefix, options.startKey, options.revision ?? 0, limit);
  }

  private async listPage(prefix: string, startKey: string | undefined, revision: number, limit: number): Promise<ListResult> {
    const start = startKey !== undefined && Buffer.compare(Buffer.from(startKey), Buffer.from(prefix)) > 0 ? startKey : prefix;
    const res = await this.call((c) => c.kv.range({ key: keyOrZero(start), range_end: rangeEnd(prefix), revision, limit }));
    const items = res.kvs.map(toKv);
    // etcd's header carries the current revision; the list was read at the requested one.
    const at = revision || revisionOf(res.header);
    // etcd's count covers the whole requested range, from startKey on.
    const remaining = Number(res.count) - items.length;
    return res.more && remaining > 0 ? { items, revision: at, more: true, remaining } : { items, revision: at, more: false };
  }

  /**
   * An unlimited list, read in pages at one revision: a single range answer larger than etcd's
   * gRPC message limit (4 MiB by default) would fail, and 10,000 pods are bigger than that.
   */
  private async listAll(prefix: string, options: ListOptions): Promise<ListResult> {
    const items: KeyValue[] = [];
    let page = await this.listPage(prefix, options.startKey, options.revision ?? 0, listPageSize);
    items.push(...page.items);
    while (page.more && page.items.length) {
      page = await this.listPage(prefix, page.items[page.items.length - 1]!.key + '\u0000', page.revision, listPageSize);
      items.push(...page.items);
    }
    return { items, revision: page.revision, more: false };
  }

  async count(prefix: string): Promise<number> {
    const res = await this.call((c) => c.kv.range({ key: keyOrZero(prefix), range_end: rangeEnd(prefix), count_only: true }));
    return Number(res.count);
  }

  async create(key: string, value: string): Promise<KeyValue> {
    const k = Buffer.from(key);
    const res = await this.call((c) =>
      c.kv.txn({
        compare: [{ key: k, target: 'Create', result: 'Equal', create_revision: 0 }],
        success: [{ request_put: { key: k, value: Buffer.from(value) } }],
        failure: [getOp(k)],
      }),
    );
    if (!res.succeeded) {
      const current = firstKv(res.responses[0]?.response_range?.kvs);
      throw new StoreError('KeyExists', `key ${key} already exists`, current);
    }
    const rev = revisionOf(res.header);
    return { key, value, createRevision: rev, modRevision: rev };
  }

  async update(key: string, value: string, expectedModRevision: number): Promise<KeyValue> {
    const k = Buffer.from(key);
    const res = await this.call((c) =>
      c.kv.txn({
        compare: [
          { key: k, target: 'Mod', result: 'Equal', mod_revision: expectedModRevision },
          // An absent key has mod_revision 0: never let an update create it.
          { key: k, target: 'Create', result: 'Greater', create_revision: 0 },
        ],
        success: [{ request_put: { key: k, value: Buffer.from(value), prev_kv: true } }],
        failure: [getOp(k)],
      }),
    );
    if (!res.succeeded) throw this.casFailure(key, firstKv(res.responses[0]?.response_range?.kvs), expectedModRevision);
    const prev = res.responses[0]?.response_put?.prev_kv;
    const rev = revisionOf(res.header);
    return { key, value, createRevision: prev ? Number(prev.create_revision) : rev, modRevision: rev };
  }

  async delete(key: string, expectedModRevision?: number): Promise<KeyValue> {
    const k = Buffer.from(key);
    const del: IRequestOp = { request_delete_range: { key: k, prev_kv: true } };
    const res = await this.call((c) =>
      c.kv.txn({
        compare:
          expectedModRevision === undefined
            ? [{ key: k, target: 'Create', result: 'Greater', create_revision: 0 }]
            : [
                { key: k, target: 'Mod', result: 'Equal', mod_revision: expectedModRevision },
                { key: k, target: 'Create', result: 'Greater', create_revision: 0 },
              ],
        success: [del],
        failure: [getOp(k)],
      }),
    );
    if (!res.succeeded) throw this.casFailure(key, firstKv(res.responses[0]?.response_range?.kvs), expectedModRevision);
    const prev = res.responses[0]?.response_delete_range?.prev_kvs[0];
    if (!prev) throw new StoreError('NotFound', `key ${key} not found`);
    return { ...toKv(prev), modRevision: revisionOf(res.header) };
  }

  async watch(
    prefix: string,
    afterRevision: number,
    onEvents: (events: WatchEvent[]) => void,
    onError?: (err: StoreError) => void,
  ): Promise<Watcher> {
    const client = this.requireClient();
    // A read at afterRevision fails exactly when the watch could not replay from it (Compacted,
    // FutureRevision); etcd itself would accept a future start revision and wait.
    await this.call((c) => c.kv.range({ key: ZERO, count_only: true, revision: Math.max(afterRevision, 1) }));

    const range = { prefix: keyOrZero(prefix), end: rangeEnd(prefix) };
    const w: EtcdWatcher = client
      .watch()
      .inRange({ start: range.prefix, end: range.end })
      .startRevision(String(afterRevision + 1))
      .withPreviousKV()
      .watcher();
    // Where to resume after a reconnect: the last delivered event, or the revision of a progress
    // notification (etcd only sends those to watchers that have caught up). The library would
    // resume from its own header bookkeeping, which can skip history not yet replayed.
    let resumeAfter = afterRevision;
    let closed = false;
    const entry = {
      cancel: () => w.cancel(),
      fail: (err: StoreError) => {
        if (closed) return;
        closed = true;
        this.watchers.delete(entry);
        onError?.(err);
      },
    };
    // 'connecting' fires right before the library sends `w.request`, so this edit is what it sends.
    w.on('connecting', () => {
      w.request.start_revision = resumeAfter + 1;
    });
    w.on('data', (res) => {
      if (closed) return;
      const events = res.events.map(toEvent);
      const last = events[events.length - 1];
      if (last) resumeAfter = last.kv.modRevision;
      else if (!res.created) resumeAfter = Math.max(resumeAfter, revisionOf(res.header));
      if (events.length > 0) onEvents(events);
    });

    await new Promise<void>((resolve, reject) => {
      const onConnected = (): void => {
        w.removeListener('error', onFirstError);
        w.on('error', (err: Error) => {
          entry.fail(watchError(err));
          w.cancel().catch(() => undefined);
        });
        resolve();
      };
      const onFirstError = (err: Error): void => {
        w.removeListener('connected', onConnected);
        closed = true;
        reject(watchError(err));
      };
      w.once('connected', onConnected);
      w.once('error', onFirstError);
    });
    this.watchers.add(entry);
    return {
      close: () => {
        if (closed) return;
        closed = true;
        this.watchers.delete(entry);
        w.cancel().catch(() => undefined);
      },
    };
  }

  /** Compacts etcd's history up to `revision` (physically, so reads below it fail right after). */
  async compact(revision: number): Promise<void> {
    if (revision <= this.compacted) return;
    try {
      await this.call((c) => c.kv.compact({ revision, physical: true }));
    } catch (err) {
      // Someone compacted at or past this revision already: the goal is met.
      if (!(err instanceof StoreError && err.code === 'Compacted')) throw err;
    }
    this.compacted = Math.max(this.compacted, revision);
  }

  /**
   * Compacts every `intervalMs`, keeping the newest `keepRevisions` revisions (Kubernetes'
   * apiserver compacts etcd every 5 minutes). The timer does not keep the process alive.
   */
  startAutoCompaction(intervalMs: number, keepRevisions: number, onError?: (err: unknown) => void): () => void {
    this.stopAutoCompaction();
    let running = false;
    const timer = setInterval(() => {
      if (running || !this.client) return;
      running = true;
      this.currentRevision()
        .then((rev) => (rev - keepRevisions > this.compacted ? this.compact(rev - keepRevisions) : undefined))
        .catch((err: unknown) => onError?.(err))
        .finally(() => (running = false));
    }, intervalMs);
    timer.unref();
    this.autoCompactTimer = timer;
    return () => {
      if (this.autoCompactTimer === timer) this.stopAutoCompaction();
    };
  }

  stopAutoCompaction(): void {
    if (this.autoCompactTimer) clearInterval(this.autoCompactTimer);
    this.autoCompactTimer = undefined;
  }

  private casFailure(key: string, current: KeyValue | undefined, expected: number | undefined): StoreError {
    if (!current) return new StoreError('NotFound', `key ${key} not found`);
    return new StoreError('Conflict', `key ${key} is at revision ${current.modRevision}, not ${expected}`, current);
  }

  private async readable(revision: number): Promise<boolean> {
    try {
      await this.call((c) => c.kv.range({ key: ZERO, count_only: true, revision }));
      return true;
    } catch (err) {
      if (err instanceof StoreError && err.code === 'Compacted') return false;
      throw err;
    }
  }

  private requireClient(): Etcd3 {
    if (!this.client) throw new StoreError('Unavailable', 'etcd backend is not started');
    return this.client;
  }

  /** Runs one request, translating the driver's errors into StoreErrors at this boundary. */
  private async call<T>(fn: (client: Etcd3) => Promise<T>): Promise<T> {
    const client = this.requireClient();
    try {
      return await fn(client);
    } catch (err) {
      throw translate(err, this.compacted);
    }
  }
}

const ZERO = Buffer.from([0]);

function keyOrZero(key: string): Buffer {
  return key === '' ? ZERO : Buffer.from(key);
}

/** etcd's end of a prefix range: the prefix with its last byte below 0xff incremented; "\0" = no end. */
function rangeEnd(prefix: string): Buffer {
  const end = Buffer.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if ((end[i] as number) < 0xff) {
      end[i] = (end[i] as number) + 1;
      return end.subarray(0, i + 1);
    }
  }
  return ZERO;
}

function getOp(key: Buffer): IRequestOp {
  return { request_range: { key } };
}

function revisionOf(header: IResponseHeader): number {
  return Number(header.revision);
}

function toKv(kv: IKeyValue): KeyValue {
  return {
    key: kv.key.toString(),
    value: kv.value.toString(),
    createRevision: Number(kv.create_revision),
    modRevision: Number(kv.mod_revision),
  };
}

function firstKv(kvs: IKeyValue[] | undefined): KeyValue | undefined {
  const kv = kvs?.[0];
  return kv ? toKv(kv) : undefined;
}

function toEvent(e: { type: string; kv: IKeyValue; prev_kv: IKeyValue | null }): WatchEvent {
  const prevKv = e.prev_kv ? toKv(e.prev_kv) : undefined;
  if (e.type === 'Delete') {
    const modRevision = Number(e.kv.mod_revision);
    const kv: KeyValue = prevKv
      ? { ...prevKv, modRevision }
      : { key: e.kv.key.toString(), value: '', createRevision: 0, modRevision };
    return prevKv ? { type: 'delete', kv, prevKv } : { type: 'delete', kv };
  }
  const kv = toKv(e.kv);
  return prevKv ? { type: 'put', kv, prevKv } : { type: 'put', kv };
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function translate(err: unknown, compacted: number): unknown {
  if (err instanceof StoreError) return err;
  const msg = messageOf(err);
  if (msg.includes('required revision has been compacted')) {
    return new StoreError('Compacted', `etcd: ${msg}`, undefined, compacted || undefined);
  }
  if (msg.includes('required revision is a future revision')) return new StoreError('FutureRevision', `etcd: ${msg}`);
  const name = err instanceof Error ? err.constructor.name : '';
  if (
    /^(GRPCUnavailableError|GRPCDeadlineExceededError|GRPCCancelledError|ClientClosedError|BrokenCircuitError|IsolatedCircuitError|EtcdWatchStreamEnded)$/.test(name) ||
    /UNAVAILABLE|DEADLINE_EXCEEDED|ECONNREFUSED|No connection established|circuit/i.test(msg)
  ) {
    return new StoreError('Unavailable', `etcd unavailable: ${msg}`);
  }
  return err;
}

/** etcd cancels a watch with an empty reason when its start revision was compacted. */
function watchError(err: Error): StoreError {
  const translated = translate(err, 0);
  if (translated instanceof StoreError) return translated;
  if (/^Watcher canceled: ?$/.test(err.message) || /compact/i.test(err.message)) {
    return new StoreError('Compacted', 'etcd: watch start revision has been compacted');
  }
  return new StoreError('Unavailable', `etcd watch failed: ${err.message}`);
}

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref());
}
