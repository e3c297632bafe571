import type { IncomingMessage, ServerResponse } from 'node:http';
import { StatusError, methodNotAllowed } from '../../../machinery/status-error.js';
import { selectorFromLabelSelector } from '../../../machinery/labels.js';
import type { RequestInfo } from '../../request-info.js';
import type { ServedResource } from '../../resource-registry.js';
import type { RequestContext } from '../../registry/strategy.js';
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
    const pod = await served.store.get(ctx.namespace, info.name);
    const phase = (pod.status as { phase?: string } | undefined)?.phase;
    const terminal = phase === 'Succeeded' || phase === 'Failed';
    const pdbs = this.budgets();
    if (pdbs && !terminal && !pod.metadata?.deletionTimestamp) {
      const listed = await pdbs.store.list({ namespace: ctx.namespace });
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
    await served.store.delete(ctx.namespace, info.name, ctx, { dryRun: ctx.dryRun, gracePeriodSeconds: grace });
    sendJSON(res, 201, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 });
  }
}
