import type { IncomingMessage, ServerResponse } from 'node:http';
import { methodNotAllowed } from '../../../machinery/status-error.js';
import type { RequestInfo } from '../../request-info.js';
import type { ServedResource } from '../../resource-registry.js';
import type { KubeObject, RequestContext } from '../../registry/strategy.js';
import type { GenericStore } from '../../registry/generic-store.js';
import { asKubeObject, decodeBody, sendJSON } from '../codec.js';
import type { SubresourceHandler } from '../resource-handler.js';

/**
 * `PUT namespaces/NAME/finalize`: changes only spec.finalizers. When a terminating namespace's
 * last finalizer goes, the namespace itself is removed.
 */
export class NamespaceFinalizeHandler implements SubresourceHandler {
  async handle(req: IncomingMessage, res: ServerResponse, info: RequestInfo, served: ServedResource, ctx: RequestContext, body: () => Promise<Buffer>): Promise<void> {
    if (info.verb !== 'update') throw methodNotAllowed('the server does not allow this method on the requested resource');
    const wanted = asKubeObject(decodeBody(await body(), req.headers['content-type']));
    const finalizers = ((wanted.spec ?? {}) as { finalizers?: string[] }).finalizers ?? [];
    const result = await finalizeNamespace(served.store, info.name, finalizers, wanted.metadata?.resourceVersion, ctx);
    sendJSON(res, 200, { ...result, apiVersion: 'v1', kind: 'Namespace' });
  }
}

/** Sets a namespace's spec.finalizers; a terminating namespace left with none is removed. */
export async function finalizeNamespace(store: GenericStore, name: string, finalizers: string[], resourceVersion: string | undefined, ctx: RequestContext): Promise<KubeObject> {
  const current = await store.get('', name);
  const next = structuredClone(current);
  next.spec = { ...(next.spec as object), finalizers };
  if (!finalizers.length) delete (next.spec as { finalizers?: string[] }).finalizers;
  if (resourceVersion) next.metadata = { ...next.metadata, resourceVersion };
  const updated = await store.updateUnchecked('', name, next);
  if (current.metadata?.deletionTimestamp && !finalizers.length && !current.metadata.finalizers?.length) {
    return (await store.delete('', name, ctx, { dryRun: ctx.dryRun })).object;
  }
  return updated;
}
