import type { IncomingMessage, ServerResponse } from 'node:http';
import { StatusError, badRequest, conflict, methodNotAllowed } from '../../../machinery/status-error.js';
import type { RequestInfo } from '../../request-info.js';
import type { ServedResource } from '../../resource-registry.js';
import type { KubeObject, RequestContext } from '../../registry/strategy.js';
import type { GenericStore } from '../../registry/generic-store.js';
import { asKubeObject, decodeBody, sendJSON } from '../codec.js';
import type { SubresourceHandler } from '../resource-handler.js';

/**
 * `POST pods/NAME/binding` (and `POST bindings`): assigns a pod to a node, once. This is how the
 * scheduler binds; the pod gets spec.nodeName and the PodScheduled condition.
 */
export class BindingHandler implements SubresourceHandler {
  constructor(private readonly podsStore: () => ServedResource) {}

  async handle(req: IncomingMessage, res: ServerResponse, info: RequestInfo, _served: ServedResource, ctx: RequestContext, body: () => Promise<Buffer>): Promise<void> {
    if (info.verb !== 'create') throw methodNotAllowed('the server does not allow this method on the requested resource');
    const binding = asKubeObject(decodeBody(await body(), req.headers['content-type']));
    const podName = info.resource === 'bindings' ? binding.metadata?.name ?? '' : info.name;
    await bindPod(this.podsStore().store, ctx.namespace, podName, binding, ctx);
    sendJSON(res, 201, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 });
  }
}

/**
 * Assigns a pod to the node a Binding names, once (409 if it already has one or is being
 * deleted): spec.nodeName and the PodScheduled condition, as Kubernetes' BindingREST does.
 */
export async function bindPod(pods: GenericStore, namespace: string, podName: string, binding: KubeObject, ctx: RequestContext): Promise<void> {
  if (binding.metadata?.name && binding.metadata.name !== podName) throw badRequest(`Binding name ${binding.metadata.name} does not match pod name ${podName}`);
  const target = (binding['target'] ?? {}) as { name?: string; kind?: string };
  if (!target.name) {
    const { invalid } = await import('../../../machinery/status-error.js');
    throw invalid('', 'Binding', podName, [{ type: 'FieldValueRequired', field: 'target.name', detail: '' }]);
  }
  for (let attempt = 0; ; attempt++) {
    const pod = await pods.get(namespace, podName);
    if (pod.metadata?.deletionTimestamp) throw conflict('', 'pods', podName, 'pod is being deleted, cannot be assigned to a host');
    const spec = (pod.spec ?? {}) as { nodeName?: string };
    if (spec.nodeName) throw conflict('', 'pods', podName, `pod ${podName} is already assigned to node "${spec.nodeName}"`);
    const next: KubeObject = structuredClone(pod);
    (next.spec as { nodeName?: string }).nodeName = target.name;
    const annotations = binding.metadata?.annotations;
    if (annotations) next.metadata = { ...next.metadata, annotations: { ...next.metadata?.annotations, ...annotations } };
    const status = (next.status ?? {}) as { conditions?: Array<Record<string, unknown>> };
    const conditions = (status.conditions ?? []).filter((c) => c['type'] !== 'PodScheduled');
    conditions.push({ type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: ctx.now.toISOString().replace(/\.\d+Z$/, 'Z') });
    next.status = { ...status, conditions };
    try {
      // Binding changes spec and status at once, bypassing the pod's update rules, as Kubernetes' BindingREST does.
      await pods.updateUnchecked(namespace, podName, next);
      break;
    } catch (e) {
      if (e instanceof StatusError && e.reason === 'Conflict' && attempt < 5) continue;
      throw e;
    }
  }
}
