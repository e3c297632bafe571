import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Backend } from '../store/backend.js';
import { SqliteBackend } from '../store/sqlite.js';
import { EtcdBackend } from '../store/etcd.js';
import type { Logger } from '../machinery/logger.js';

/** How often old revisions are compacted, and how many recent ones are kept for resuming watches. */
const compactionIntervalMs = 5 * 60_000;
const keptRevisions = 10_000;

export interface OpenedBackend extends Backend {
  /** For logs: `sqlite:/path` or `etcd://…`. */
  describe: string;
}

/**
 * The store named by `--datastore-endpoint`: embedded SQLite under the data dir when absent,
 * etcd for `etcd://host:port[,host:port…]`.
 */
export async function openBackend(dataDir: string, endpoint: string | undefined, log: Logger): Promise<OpenedBackend> {
  let backend: Backend;
  let describe: string;
  let stopCompaction: (() => void) | undefined;
  if (!endpoint || endpoint.startsWith('sqlite://')) {
    const file = endpoint ? endpoint.slice('sqlite://'.length) : join(dataDir, 'server', 'db', 'state.db');
    await mkdir(join(file, '..'), { recursive: true, mode: 0o700 });
    const sqlite = new SqliteBackend(file);
    await sqlite.start();
    stopCompaction = sqlite.startAutoCompaction(compactionIntervalMs, keptRevisions, (err) => log.warn('compaction failed', { error: String(err) }));
    backend = sqlite;
    describe = `sqlite:${file}`;
  } else if (endpoint.startsWith('etcd://') || endpoint.startsWith('http://') || endpoint.startsWith('https://')) {
    const hosts = endpoint.replace(/^etcd:\/\//, '').split(',').map((h) => h.trim()).filter(Boolean).map((h) => (h.startsWith('http') ? h : `http://${h}`));
    const etcd = new EtcdBackend(hosts);
    await etcd.start().catch((e: unknown) => {
      throw new Error(`cannot reach etcd at ${hosts.join(', ')}: ${(e as Error).message}. Is etcd running? (Debian: apt-get install etcd-server)`);
    });
    stopCompaction = etcd.startAutoCompaction(compactionIntervalMs, keptRevisions, (err) => log.warn('compaction failed', { error: String(err) }));
    backend = etcd;
    describe = `etcd:${hosts.join(',')}`;
  } else {
    throw new Error(`--datastore-endpoint ${endpoint}: expected etcd://host:port[,host:port…] (or nothing for embedded SQLite)`);
  }
  const close = backend.close.bind(backend);
  return Object.assign(backend, {
    describe,
    close: async () => {
      stopCompaction?.();
      await close();
    },
  });
}
