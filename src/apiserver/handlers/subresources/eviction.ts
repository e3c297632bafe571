import type { IncomingMessage, ServerResponse } from 'node:http';
import { StatusError, methodNotAllowed } from '../../../machinery/status-error.js';
import { selectorFromLabelSelector } from '../../../machinery/labels.js';
import type { RequestInfo } from '../../request-info.js';
import type { ServedResource } from '../../resource-registry.js';
import type { KubeObject, RequestContext } from '../../registry/strategy.js';
import type { GenericStore } from '../../registry/generic-store.js';
import { asKubeObject, decodeBody, isObject, sendJSON } from '../codec.js';
import type { SubresourceHandler } from '../resource-handler.js';

interface Budget {
  metadata?: { name?: string };
  spec?: { selector?: Parameters<typeof selectorFromLabelSelector>[0] };
  status?: { disruptionsAllowed?: number };
}

/**
 * `POST pods/NAME/eviction`: deletes a pod unless a PodDisruptionBudget covering it allows no
 * disruption (429, as Kubernetes answers, so `kubectl drain` retries).
 */
export class EvictionHandler implements SubresourceHandler {
  constructor(private readonly budgets: () => ServedResource | undefined) {}

  async handle(req: IncomingMessage, res: ServerResponse, info: RequestInfo, served: ServedResource, ctx: RequestContext, body: () => Promise<Buffer>): Promise<void> {
    if (info.verb !== 'create') throw methodNotAllowed('the server does not allow this method on the requested resource');
    const eviction = asKubeObject(decodeBody(await body(), req.headers['content-type']));
    await evictPod(served.store, this.budgets()?.store, ctx.namespace, info.name, eviction, ctx);
    sendJSON(res, 201, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 });
  }
}

/**
 * Deletes a pod unless a PodDisruptionBudget covering it allows no disruption (429, so `kubectl
 * drain` retries); Eviction.deleteOptions.gracePeriodSeconds is honoured.
 */
export async function evictPod(pods: GenericStore, budgets: GenericStore | undefined, namespace: string, name: string, eviction: KubeObject, ctx: RequestContext): Promise<void> {
  const pod = await pods.get(namespace, name);
  const phase = (pod.status as { phase?: string } | undefined)?.phase;
  const terminal = phase === 'Succeeded' || phase === 'Failed';
  const pdbs = budgets;
  if (pdbs && !terminal && !pod.metadata?.deletionTimestamp) {
    const listed = await pdbs.list({ namespace: namespace });
    const covering = (listed.items as Budget[]).filter((b) => b.spec?.selector && selectorFromLabelSelector(b.spec.selector).matches(pod.metadata?.labels ?? {}));
    if (covering.length > 1) {
      throw new StatusError(500, 'InternalError', 'This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.');
    }
    const budget = covering[0];
    if (budget && (budget.status?.disruptionsAllowed ?? 0) <= 0) {
      throw new StatusError(429, 'TooManyRequests', `Cannot evict pod as it would violate the pod's disruption budget.`, {
        causes: [{ reason: 'DisruptionBudget', message: `The disruption budget ${budget.metadata?.name ?? ''} needs more healthy pods to allow this eviction.`, field: '' }],
      });
    }
  }
  const deleteOptions = isObject(eviction['deleteOptions']) ? (eviction['deleteOptions'] as Record<string, unknown>) : {};
  const grace = typeof deleteOptions['gracePeriodSeconds'] === 'number' ? deleteOptions['gracePeriodSeconds'] : undefined;
  await pods.delete(namespace, name, ctx, { dryRun: ctx.dryRun, gracePeriodSeconds: grace });
}
