/**
 * The default embedded store: one SQLite file in WAL mode, laid out the way k3s' kine lays out
 * etcd's model in SQL. Every write appends one row to `kine` whose id is the new revision; the
 * current state is the newest row per name; a row with `deleted = 1` is a tombstone. A unique
 * (name, prev_revision) index turns a lost compare-and-swap into a constraint error, so even a
 * second process writing by mistake cannot silently overwrite.
 *
 * Unlike kine, watches are not polled: this process is the only writer, so each write is
 * published to in-memory watchers right after it commits.
 */
import Database from 'better-sqlite3';
import {
  StoreError,
  type Backend,
  type KeyValue,
  type ListOptions,
  type ListResult,
  type WatchEvent,
  type Watcher,
} from './backend.js';
import { compareKeys, prefixEnd } from './key-range.js';
import { WatchHub } from './watch-hub.js';

type Db = Database.Database;
type Statement = Database.Statement;

interface Row {
  id: number;
  name: string;
  created: number;
  deleted: number;
  create_revision: number;
  prev_revision: number;
  value: string;
  old_value: string | null;
}

type ListRow = Pick<Row, 'id' | 'name' | 'create_revision' | 'value'>;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS kine (
  id              INTEGER PRIMARY KEY AUTOINCREMENT,
  name            TEXT    NOT NULL,
  created         INTEGER NOT NULL,
  deleted         INTEGER NOT NULL,
  create_revision INTEGER NOT NULL,
  prev_revision   INTEGER NOT NULL,
  value           TEXT    NOT NULL,
  old_value       TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS kine_name_prev_revision_uindex ON kine (name, prev_revision);
CREATE INDEX IF NOT EXISTS kine_name_id_index ON kine (name, id);
CREATE TABLE IF NOT EXISTS kine_meta (
  key   TEXT PRIMARY KEY,
  value INTEGER NOT NULL
) WITHOUT ROWID;
`;

/** Revisions removed per compaction transaction, so API writes interleave with a long compaction. */
const COMPACT_BATCH = 2000;

/**
 * The newest row per name in [lo, hi) at or below @rev: the state of that range at @rev. It is
 * read from the covering (name, id) index in name order, so the outer ORDER BY m.name needs no
 * sort and a LIMITed page stops early.
 */
function newestRows(hi: boolean): string {
  return `SELECT name, MAX(id) AS mid FROM kine
          WHERE name >= @lo ${hi ? 'AND name < @hi' : ''} AND id <= @rev GROUP BY name ORDER BY name`;
}

export class SqliteBackend implements Backend {
  private db: Db | undefined;
  private rev = 0;
  private compacted = 0;
  private compacting: Promise<void> | undefined;
  private closing = false;
  private autoCompactTimer: NodeJS.Timeout | undefined;
  private readonly hub = new WatchHub();
  private stmts!: ReturnType<SqliteBackend['prepare']>;

  /** @param path the database file (created if missing); `:memory:` works for throwaway stores. */
  constructor(readonly path: string) {}

  async start(): Promise<void> {
    if (this.db) return;
    this.closing = false;
    const db = new Database(this.path);
    try {
      // WAL + synchronous=NORMAL: a commit is in the WAL file (the OS page cache) before the call
      // returns, so it survives kill -9 of this process; only an OS crash or power loss can lose
      // the newest commits, and never corrupts the database.
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.pragma('busy_timeout = 5000');
      db.pragma('cache_size = -65536');
      db.pragma('temp_store = MEMORY');
      db.exec(SCHEMA);
      this.db = db;
      this.stmts = this.prepare(db);
      const seq = db.prepare(`SELECT seq FROM sqlite_sequence WHERE name = 'kine'`).get() as { seq: number } | undefined;
      const max = db.prepare('SELECT MAX(id) AS id FROM kine').get() as { id: number | null };
      this.rev = Math.max(seq?.seq ?? 0, max.id ?? 0);
      const c = this.stmts.getMeta.get('compact_revision') as { value: number } | undefined;
      this.compacted = c?.value ?? 0;
    } catch (err) {
      db.close();
      this.db = undefined;
      throw toStoreError(err);
    }
  }

  async close(): Promise<void> {
    this.stopAutoCompaction();
    const db = this.db;
    if (!db) return;
    this.closing = true;
    // A running compaction stops after its current batch; the rest is redone after a restart.
    await this.compacting?.catch(() => undefined);
    this.db = undefined;
    this.hub.failAll(new StoreError('Unavailable', 'store closed'));
    db.close();
  }

  async currentRevision(): Promise<number> {
    this.open();
    return this.rev;
  }

  async compactRevision(): Promise<number> {
    this.open();
    return this.compacted;
  }

  async get(key: string, revision?: number): Promise<KeyValue | undefined> {
    this.open();
    const rev = this.readRevision(revision);
    const row = this.stmts.latestAt.get(key, rev) as Row | undefined;
    return row && !row.deleted ? rowKv(row) : undefined;
  }

  async list(prefix: string, options: ListOptions = {}): Promise<ListResult> {
    this.open();
    const rev = this.readRevision(options.revision);
    const hi = prefixEnd(prefix);
    const lo = options.startKey !== undefined && compareKeys(options.startKey, prefix) > 0 ? options.startKey : prefix;
    const limit = options.limit && options.limit > 0 ? options.limit : 0;
    const range: { lo: string; hi?: string; rev: number } = hi === undefined ? { lo, rev } : { lo, hi, rev };
    const stmt = hi === undefined ? this.stmts.listOpen : this.stmts.list;
    const rows = stmt.all({ ...range, limit: limit > 0 ? limit + 1 : -1 }) as ListRow[];
    if (limit > 0 && rows.length > limit) {
      const next = rows[limit] as ListRow;
      rows.length = limit;
      const countStmt = hi === undefined ? this.stmts.countOpen : this.stmts.count;
      const remaining = (countStmt.get({ ...range, lo: next.name }) as { n: number }).n;
      return { items: rows.map(listRowKv), revision: rev, more: true, remaining };
    }
    return { items: rows.map(listRowKv), revision: rev, more: false };
  }

  async count(prefix: string): Promise<number> {
    this.open();
    const hi = prefixEnd(prefix);
    const row = hi === undefined
      ? (this.stmts.countOpen.get({ lo: prefix, rev: this.rev }) as { n: number })
      : (this.stmts.count.get({ lo: prefix, hi, rev: this.rev }) as { n: number });
    return row.n;
  }

  async create(key: string, value: string): Promise<KeyValue> {
    this.open();
    const latest = this.stmts.latest.get(key) as Row | undefined;
    if (latest && !latest.deleted) throw new StoreError('KeyExists', `key ${key} already exists`, rowKv(latest));
    const id = this.rev + 1;
    this.insert(key, { id, name: key, created: 1, deleted: 0, create_revision: id, prev_revision: latest?.id ?? 0, value, old_value: null });
    const kv: KeyValue = { key, value, createRevision: id, modRevision: id };
    this.hub.publish({ type: 'put', kv });
    return kv;
  }

  async update(key: string, value: string, expectedModRevision: number): Promise<KeyValue> {
    this.open();
    const current = this.current(key, expectedModRevision);
    const id = this.rev + 1;
    this.insert(key, {
      id,
      name: key,
      created: 0,
      deleted: 0,
      create_revision: current.createRevision,
      prev_revision: current.modRevision,
      value,
      old_value: current.value,
    });
    const kv: KeyValue = { key, value, createRevision: current.createRevision, modRevision: id };
    this.hub.publish({ type: 'put', kv, prevKv: current });
    return kv;
  }

  async delete(key: string, expectedModRevision?: number): Promise<KeyValue> {
    this.open();
    const current = this.current(key, expectedModRevision);
    const id = this.rev + 1;
    // A tombstone keeps the last value, so a replayed delete event carries it like etcd's prevKv.
    this.insert(key, {
      id,
      name: key,
      created: 0,
      deleted: 1,
      create_revision: current.createRevision,
      prev_revision: current.modRevision,
      value: current.value,
      old_value: current.value,
    });
    const kv: KeyValue = { ...current, modRevision: id };
    this.hub.publish({ type: 'delete', kv, prevKv: current });
    return kv;
  }

  async watch(
    prefix: string,
    afterRevision: number,
    onEvents: (events: WatchEvent[]) => void,
    onError?: (err: StoreError) => void,
  ): Promise<Watcher> {
    this.open();
    this.checkRevision(afterRevision);
    const hi = prefixEnd(prefix);
    // Reading history and registering happen in one synchronous step: no write can land between
    // them, so the replay ends exactly where live delivery begins.
    const rows = (hi === undefined
      ? this.stmts.historyOpen.all({ after: afterRevision, lo: prefix })
      : this.stmts.history.all({ after: afterRevision, lo: prefix, hi })) as Row[];
    return this.hub.add(prefix, rows.map(rowEvent), onEvents, onError);
  }

  /**
   * Forgets history older than `revision`: deletes every row superseded at or below it, and the
   * tombstones at or below it. Runs in batches so writes are not held up; resolves when done.
   */
  async compact(revision: number): Promise<void> {
    this.open();
    if (revision > this.rev) throw new StoreError('FutureRevision', `revision ${revision} is newer than ${this.rev}`);
    while (this.compacting) await this.compacting.catch(() => undefined);
    if (revision <= this.compacted) return;
    const run = this.compactInBatches(revision);
    this.compacting = run;
    try {
      await run;
    } finally {
      this.compacting = undefined;
    }
  }

  /**
   * Compacts every `intervalMs`, keeping the newest `keepRevisions` revisions of history (the
   * window in which watches can resume). The timer does not keep the process alive; `close()` or
   * the returned function stops it.
   */
  startAutoCompaction(intervalMs: number, keepRevisions: number, onError?: (err: unknown) => void): () => void {
    this.stopAutoCompaction();
    const timer = setInterval(() => {
      if (!this.db || this.compacting) return;
      const target = this.rev - keepRevisions;
      if (target > this.compacted) this.compact(target).catch((err: unknown) => onError?.(err));
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

  private async compactInBatches(target: number): Promise<void> {
    while (this.compacted < target) {
      if (this.closing || !this.db) return;
      const from = this.compacted;
      const to = Math.min(target, from + COMPACT_BATCH);
      try {
        this.stmts.compactBatch(from, to);
      } catch (err) {
        throw toStoreError(err);
      }
      this.compacted = to;
      if (to < target) await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  /** The live value of `key`, checked against an expected modRevision. */
  private current(key: string, expectedModRevision: number | undefined): KeyValue {
    const latest = this.stmts.latest.get(key) as Row | undefined;
    if (!latest || latest.deleted) throw new StoreError('NotFound', `key ${key} not found`);
    const current = rowKv(latest);
    if (expectedModRevision !== undefined && current.modRevision !== expectedModRevision) {
      throw new StoreError('Conflict', `key ${key} is at revision ${current.modRevision}, not ${expectedModRevision}`, current);
    }
    return current;
  }

  private insert(key: string, row: Row): void {
    try {
      this.stmts.insert.run(row);
    } catch (err) {
      if (err instanceof Database.SqliteError && err.code.startsWith('SQLITE_CONSTRAINT')) {
        // Someone else wrote this key or revision behind our back: resync and report a conflict.
        const max = this.stmts.maxId.get() as { id: number | null };
        this.rev = Math.max(this.rev, max.id ?? 0);
        const latest = this.stmts.latest.get(key) as Row | undefined;
        throw new StoreError('Conflict', `concurrent write to ${key}`, latest && !latest.deleted ? rowKv(latest) : undefined);
      }
      throw toStoreError(err);
    }
    this.rev = row.id;
  }

  private prepare(db: Db) {
    const list = (hi: boolean): Statement =>
      db.prepare(`SELECT k.id, k.name, k.create_revision, k.value
                  FROM (${newestRows(hi)}) m JOIN kine k ON k.id = m.mid
                  WHERE k.deleted = 0 ORDER BY m.name LIMIT @limit`);
    const count = (hi: boolean): Statement =>
      db.prepare(`SELECT COUNT(*) AS n FROM (${newestRows(hi)}) m JOIN kine k ON k.id = m.mid
                  WHERE k.deleted = 0`);
    const history = (hi: boolean): Statement =>
      db.prepare(`SELECT * FROM kine WHERE id > @after AND name >= @lo ${hi ? 'AND name < @hi' : ''} ORDER BY id`);
    const deleteSuperseded = db.prepare(
      `DELETE FROM kine WHERE id IN (SELECT prev_revision FROM kine WHERE id > ? AND id <= ? AND prev_revision > 0)`,
    );
    const deleteTombstones = db.prepare('DELETE FROM kine WHERE deleted = 1 AND id > ? AND id <= ?');
    const setMeta = db.prepare('INSERT INTO kine_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value');
    return {
      latest: db.prepare('SELECT * FROM kine WHERE name = ? ORDER BY id DESC LIMIT 1'),
      latestAt: db.prepare('SELECT * FROM kine WHERE name = ? AND id <= ? ORDER BY id DESC LIMIT 1'),
      maxId: db.prepare('SELECT MAX(id) AS id FROM kine'),
      insert: db.prepare(`INSERT INTO kine (id, name, created, deleted, create_revision, prev_revision, value, old_value)
                          VALUES (@id, @name, @created, @deleted, @create_revision, @prev_revision, @value, @old_value)`),
      list: list(true),
      listOpen: list(false),
      count: count(true),
      countOpen: count(false),
      history: history(true),
      historyOpen: history(false),
      getMeta: db.prepare('SELECT value FROM kine_meta WHERE key = ?'),
      compactBatch: db.transaction((from: number, to: number) => {
        deleteSuperseded.run(from, to);
        deleteTombstones.run(from, to);
        setMeta.run('compact_revision', to);
      }),
    };
  }

  private open(): Db {
    if (!this.db) throw new StoreError('Unavailable', 'store is not open');
    return this.db;
  }

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
}

function rowKv(row: Row): KeyValue {
  return { key: row.name, value: row.value, createRevision: row.create_revision, modRevision: row.id };
}

function listRowKv(row: ListRow): KeyValue {
  return { key: row.name, value: row.value, createRevision: row.create_revision, modRevision: row.id };
}

function rowEvent(row: Row): WatchEvent {
  const kv: KeyValue = { key: row.name, value: row.value, createRevision: row.create_revision, modRevision: row.id };
  if (row.deleted) {
    const prevKv: KeyValue = { ...kv, value: row.old_value ?? row.value, modRevision: row.prev_revision };
    return { type: 'delete', kv, prevKv };
  }
  if (row.created || row.old_value === null) return { type: 'put', kv };
  return {
    type: 'put',
    kv,
    prevKv: { key: row.name, value: row.old_value, createRevision: row.create_revision, modRevision: row.prev_revision },
  };
}

function toStoreError(err: unknown): unknown {
  if (err instanceof Database.SqliteError) {
    if (/^SQLITE_(BUSY|LOCKED|IOERR|FULL|READONLY|CANTOPEN|CORRUPT|NOTADB)/.test(err.code)) {
      return new StoreError('Unavailable', `sqlite: ${err.message} (${err.code})`);
    }
  }
  return err;
}
