/**
 * `pods/exec`, `pods/attach` and `pods/portforward`: checks the request as Kubernetes' pod REST
 * does (the container, the command, the pod's node), then hands the upgraded connection to the
 * pod's kubelet. kubectl sends POST for SPDY and GET for WebSockets; a GET must also be allowed
 * to `create` the subresource, as Kubernetes checks since 1.30.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { StatusError, badRequest, methodNotAllowed } from '../../../machinery/status-error.js';
import type { RequestInfo } from '../../request-info.js';
import type { ServedResource } from '../../resource-registry.js';
import type { KubeObject, RequestContext } from '../../registry/strategy.js';
import type { SubresourceHandler } from '../resource-handler.js';
import { upgradeOf, type PendingUpgrade } from '../../../streaming/upgrade.js';

export type PodStreamKind = 'exec' | 'attach' | 'portforward';

export interface PodStreamRequest {
  kind: PodStreamKind;
  pod: KubeObject;
  /** The kubelet's path and query (`/exec/ns/pod/container?command=…&stdin=true…`). */
  kubeletPath: string;
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
  req: IncomingMessage;
  upgrade: PendingUpgrade;
}

/** Where streams go: the kubelet of the pod's node. */
export interface PodStreamTarget {
  connect(r: PodStreamRequest): Promise<void>;
}

function truthy(v: string | null): boolean {
  return v === 'true' || v === '1';
}

export class PodStreamHandler implements SubresourceHandler {
  constructor(
    private readonly kind: PodStreamKind,
    private readonly target: () => PodStreamTarget | undefined,
    /** Whether the user may also `create` this subresource (asked for GET upgrades). */
    private readonly mayCreate: (info: RequestInfo, ctx: RequestContext) => Promise<void>,
  ) {}

  async handle(req: IncomingMessage, _res: ServerResponse, info: RequestInfo, served: ServedResource, ctx: RequestContext): Promise<void> {
    if (info.verb !== 'get' && info.verb !== 'create') throw methodNotAllowed('the server does not allow this method on the requested resource');
    if (info.verb === 'get') await this.mayCreate(info, ctx);
    const q = new URL(req.url ?? '/', 'http://localhost').searchParams;
    const pod = await served.store.get(ctx.namespace, info.name);
    const spec = (pod.spec ?? {}) as { containers?: Array<{ name: string }>; initContainers?: Array<{ name: string }>; ephemeralContainers?: Array<{ name: string }>; nodeName?: string };
    const opts = { stdin: truthy(q.get('stdin')), stdout: truthy(q.get('stdout')), stderr: truthy(q.get('stderr')), tty: truthy(q.get('tty')) };
    const ns = encodeURIComponent(ctx.namespace);
    const name = encodeURIComponent(info.name);
    let kubeletPath: string;
    if (this.kind === 'portforward') {
      // WebSocket port-forward (not tunneled SPDY) names its ports in the query: `ports` for the
      // API (PodPortForwardOptions), `port` for the kubelet, as Kubernetes' PortForwardLocation.
      const ports = q.getAll('ports').flatMap((p) => p.split(',')).filter(Boolean);
      kubeletPath = `/portForward/${ns}/${name}${ports.length ? `?${new URLSearchParams(ports.map((p) => ['port', p])).toString()}` : ''}`;
    } else {
      let container = q.get('container') ?? '';
      if (!container) {
        const containers = spec.containers ?? [];
        if (containers.length !== 1) throw badRequest(`a container name must be specified for pod ${info.name}, choose one of: [${containers.map((c) => c.name).join(' ')}]`);
        container = containers[0]!.name;
      }
      const all = [...(spec.containers ?? []), ...(spec.initContainers ?? []), ...(spec.ephemeralContainers ?? [])];
      if (!all.some((c) => c.name === container)) throw badRequest(`container ${container} is not valid for pod ${info.name}`);
      if (!opts.stdin && !opts.stdout && !opts.stderr) throw badRequest('you must specify at least one of stdin, stdout, stderr');
      const kq = new URLSearchParams();
      if (this.kind === 'exec') {
        const command = q.getAll('command');
        if (!command.length) throw badRequest('you must specify at least 1 command');
        for (const c of command) kq.append('command', c);
      }
      for (const [k, v] of Object.entries(opts)) if (v) kq.set(k, 'true');
      kubeletPath = `/${this.kind}/${ns}/${name}/${encodeURIComponent(container)}?${kq.toString()}`;
    }
    if (!spec.nodeName) throw badRequest(`pod ${info.name} does not have a host assigned`);
    const upgrade = upgradeOf(req);
    if (!upgrade) throw badRequest('Upgrade request required');
    const target = this.target();
    if (!target) throw new StatusError(503, 'ServiceUnavailable', `no kubelet connection for node ${spec.nodeName}`);
    await target.connect({ kind: this.kind, pod, kubeletPath, ...opts, req, upgrade });
  }
}
