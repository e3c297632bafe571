/**
 * The storage contract of k8ts, shaped like etcd v3: a flat keyspace of string keys holding
 * serialized objects, one global revision counter bumped by every write, history kept until
 * compaction, and watches that resume from any revision still in history.
 *
 * Keys look like `/registry/<group>/<resource>/<namespace>/<name>`; values are JSON text.
 * Every implementation must pass `backend.contract.ts`.
 */

export interface KeyValue {
  key: string;
  value: string;
  /** Revision of the write that created this key (since its last deletion). */
  createRevision: number;
  /** Revision of the last write to this key; for a delete event, the delete's revision. */
  modRevision: number;
}

export interface WatchEvent {
  type: 'put' | 'delete';
  /** For `put`: the new value. For `delete`: the last value, with modRevision = the delete's revision. */
  kv: KeyValue;
  /** The value before this write, when there was one. */
  prevKv?: KeyValue;
}

export interface ListOptions {
  /** Read the keyspace as it was at this revision (0 or absent: the current one). */
  revision?: number;
  /** At most this many items (0 or absent: all). */
  limit?: number;
  /** Start at this key (inclusive); keys are returned in byte order. */
  startKey?: string;
}

export interface ListResult {
  items: KeyValue[];
  /** The revision this list was read at. */
  revision: number;
  /** True when more keys past the last item exist under the prefix at that revision. */
  more: boolean;
  /** How many keys under the prefix were left out after the last item (when known). */
  remaining?: number;
}

export interface Watcher {
  /** Stops delivery; idempotent. */
  close(): void;
}

export type StoreErrorCode = 'KeyExists' | 'NotFound' | 'Conflict' | 'Compacted' | 'FutureRevision' | 'Unavailable';

/** The one error type backends throw; the registry turns it into a Kubernetes Status. */
export class StoreError extends Error {
  constructor(
    readonly code: StoreErrorCode,
    message: string,
    /** For Conflict: the value currently stored. For Compacted: absent. */
    readonly current?: KeyValue,
    /** For Compacted: the oldest revision still in history. */
    readonly compactRevision?: number,
  ) {
    super(message);
    this.name = 'StoreError';
  }
}

export interface Backend {
  /** Opens files or connections. Called once before any other method. */
  start(): Promise<void>;
  /** Ends every watch and releases resources. */
  close(): Promise<void>;

  /** The revision of the newest write (0 for an empty store). */
  currentRevision(): Promise<number>;
  /** The oldest revision whose history is still kept (watch/list from below it fails with Compacted). */
  compactRevision(): Promise<number>;

  /** The value of one key, at `revision` if given; undefined when absent. */
  get(key: string, revision?: number): Promise<KeyValue | undefined>;
  /** Keys starting with `prefix`, in byte order. Throws Compacted / FutureRevision for a bad revision. */
  list(prefix: string, options?: ListOptions): Promise<ListResult>;
  /** Number of keys under `prefix` now. */
  count(prefix: string): Promise<number>;

  /** Stores a new key. Throws KeyExists when the key is present. Returns the stored kv. */
  create(key: string, value: string): Promise<KeyValue>;
  /**
   * Replaces a key's value if its modRevision is still `expectedModRevision`.
   * Throws NotFound when absent, Conflict (with the current kv) when it moved on.
   */
  update(key: string, value: string, expectedModRevision: number): Promise<KeyValue>;
  /**
   * Removes a key, if its modRevision is `expectedModRevision` (when given).
   * Returns the removed kv with modRevision set to the delete's revision.
   */
  delete(key: string, expectedModRevision?: number): Promise<KeyValue>;

  /**
   * Delivers, in revision order, every write under `prefix` with revision > `afterRevision`,
   * first from history and then live, in batches. Throws Compacted when `afterRevision` is older
   * than the kept history. `onError` is called once if the watch breaks (then it is closed).
   */
  watch(
    prefix: string,
    afterRevision: number,
    onEvents: (events: WatchEvent[]) => void,
    onError?: (err: StoreError) => void,
  ): Promise<Watcher>;

  /** Forgets history older than `revision`; current values are always kept. */
  compact(revision: number): Promise<void>;
}
