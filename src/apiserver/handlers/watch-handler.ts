import type { IncomingMessage, ServerResponse } from 'node:http';
import { StatusError, badRequest } from '../../machinery/status-error.js';
import type { ResponseShape } from '../negotiation.js';
import type { RequestInfo } from '../request-info.js';
import type { ServedResource } from '../resource-registry.js';
import type { KubeObject } from '../registry/strategy.js';
import type { WatchEventType } from '../registry/watch-cache.js';
import { needsConversion, type TableRenderer } from './resource-handler.js';
import { parseListOptions } from './query-options.js';

/** How often a watch that allows bookmarks gets one (Kubernetes sends them about once a minute). */
export const bookmarkIntervalMs = 10_000;

function apiVersionOf(group: string, version: string): string {
  return group ? `${group}/${version}` : version;
}

/**
 * Streams watch events as newline-delimited JSON (`{"type":…,"object":…}`), with bookmarks,
 * `sendInitialEvents` (watch-list) and `timeoutSeconds`, until the client goes away.
 */
export async function serveWatch(
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  served: ServedResource,
  namespace: string,
  info: RequestInfo,
  shape: ResponseShape,
  tables: TableRenderer,
): Promise<void> {
  const q = url.searchParams;
  const opts = parseListOptions(url, served, namespace);
  if (info.name) {
    // A watch of one object (`/pods/x?watch=1` or fieldSelector=metadata.name=x).
    const name = info.name;
    const inner = opts.fieldSelector;
    opts.fieldSelector = (fields) => fields['metadata.name'] === name && (!inner || inner(fields));
  }
  const sendInitialEvents = q.get('sendInitialEvents') === 'true';
  if (sendInitialEvents && opts.resourceVersionMatch !== 'NotOlderThan') {
    throw badRequest(`sendInitialEvents: Forbidden: sendInitialEvents is forbidden for watch unless resourceVersionMatch is set to NotOlderThan`);
  }
  if (!sendInitialEvents && q.get('sendInitialEvents') === null && opts.resourceVersionMatch) {
    throw badRequest(`resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided`);
  }
  const allowBookmarks = q.get('allowWatchBookmarks') === 'true';
  const timeoutSeconds = Number(q.get('timeoutSeconds') ?? '0');
  const { descriptor } = served;
  const apiVersion = apiVersionOf(descriptor.group, info.version);
  const converter = served.store.resource.converter;
  let lastRevision = 0;
  let firstTable = true;

  const present = (obj: KubeObject): unknown => {
    let out = obj;
    if (converter && needsConversion(served, apiVersion)) out = converter.fromStorage(obj, info.version);
    out = { ...out, apiVersion, kind: descriptor.kind };
    if (shape.kind === 'table') {
      const table = tables.render(served, [out], { resourceVersion: obj.metadata?.resourceVersion }, q.get('includeObject') ?? 'Metadata', shape.version) as Record<string, unknown>;
      if (!firstTable) table['columnDefinitions'] = [];
      firstTable = false;
      return table;
    }
    if (shape.kind === 'metadata') return { kind: 'PartialObjectMetadata', apiVersion: `meta.k8s.io/${shape.version}`, metadata: out.metadata };
    return out;
  };

  res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private', 'Transfer-Encoding': 'chunked' });
  res.flushHeaders();
  let closed = false;
  const write = (type: WatchEventType, object: unknown): void => {
    if (closed) return;
    res.write(JSON.stringify({ type, object }) + '\n');
  };
  const bookmark = (extraAnnotations?: Record<string, string>): void => {
    const metadata: Record<string, unknown> = { resourceVersion: String(Math.max(lastRevision, served.store.cache.currentRevision)) };
    if (extraAnnotations) metadata['annotations'] = extraAnnotations;
    write('BOOKMARK', { kind: descriptor.kind, apiVersion, metadata });
  };

  let stopWatch: (() => void) | undefined;
  const finish = (): void => {
    if (closed) return;
    closed = true;
    stopWatch?.();
    clearInterval(bookmarkTimer);
    clearTimeout(timeoutTimer);
    res.end();
  };
  const bookmarkTimer = allowBookmarks ? setInterval(() => bookmark(), bookmarkIntervalMs) : undefined;
  const timeoutTimer = timeoutSeconds > 0 ? setTimeout(finish, timeoutSeconds * 1000) : undefined;
  req.on('close', finish);
  res.on('close', finish);

  try {
    const handle = await served.store.watch({ ...opts, sendInitialEvents }, {
      send: (type, obj) => {
        const rv = Number(obj.metadata?.resourceVersion ?? 0);
        if (rv > lastRevision) lastRevision = rv;
        write(type, present(obj));
      },
      fail: (err) => {
        write('ERROR', err.toStatus());
        finish();
      },
    });
    stopWatch = handle.stop;
    lastRevision = Math.max(lastRevision, handle.initialRevision);
    if (sendInitialEvents) bookmark({ 'k8s.io/initial-events-end': 'true' });
    if (closed) handle.stop();
  } catch (e) {
    if (e instanceof StatusError) {
      // Kubernetes reports an expired resourceVersion as an ERROR event in a 200 stream.
      write('ERROR', e.toStatus());
      finish();
      return;
    }
    throw e;
  }
}
