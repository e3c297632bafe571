import type { IncomingMessage, ServerResponse } from 'node:http';
import { badRequest, methodNotAllowed } from '../../../machinery/status-error.js';
import type { RequestInfo } from '../../request-info.js';
import type { ServedResource } from '../../resource-registry.js';
import type { KubeObject, RequestContext } from '../../registry/strategy.js';
import type { SubresourceHandler } from '../resource-handler.js';

/** Where container logs come from: the kubelet of the pod's node (a later issue plugs it in). */
export interface LogSource {
  stream(pod: KubeObject, container: string, query: URLSearchParams, res: ServerResponse): Promise<void>;
}

/**
 * `GET pods/NAME/log`: checks the pod and container as Kubernetes does, then asks the node's
 * log source. With no kubelet connected the container has not started, and that is the answer.
 */
export class PodLogHandler implements SubresourceHandler {
  constructor(private readonly source: () => LogSource | undefined) {}

  async handle(req: IncomingMessage, res: ServerResponse, info: RequestInfo, served: ServedResource, ctx: RequestContext): Promise<void> {
    if (info.verb !== 'get') throw methodNotAllowed('the server does not allow this method on the requested resource');
    const query = new URL(req.url ?? '/', 'http://localhost').searchParams;
    const pod = await served.store.get(ctx.namespace, info.name);
    const spec = (pod.spec ?? {}) as { containers?: Array<{ name: string }>; initContainers?: Array<{ name: string }>; nodeName?: string };
    const names = [...(spec.containers ?? []), ...(spec.initContainers ?? [])].map((c) => c.name);
    let container = query.get('container') ?? '';
    if (!container) {
      if ((spec.containers ?? []).length !== 1) {
        throw badRequest(`a container name must be specified for pod ${info.name}, choose one of: [${(spec.containers ?? []).map((c) => c.name).join(' ')}]`);
      }
      container = spec.containers![0]!.name;
    }
    if (!names.includes(container)) throw badRequest(`container ${container} is not valid for pod ${info.name}`);
    const source = this.source();
    if (!spec.nodeName || !source) {
      const statuses = ((pod.status as { containerStatuses?: Array<{ name: string; state?: { waiting?: { reason?: string } } }> } | undefined)?.containerStatuses ?? []);
      const reason = statuses.find((s) => s.name === container)?.state?.waiting?.reason ?? 'ContainerCreating';
      throw badRequest(`container "${container}" in pod "${info.name}" is waiting to start: ${reason}`);
    }
    await source.stream(pod, container, query, res);
  }
}
