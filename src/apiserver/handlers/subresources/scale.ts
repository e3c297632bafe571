import type { IncomingMessage, ServerResponse } from 'node:http';
import { badRequest, methodNotAllowed } from '../../../machinery/status-error.js';
import { formatLabelSelector } from '../../../machinery/labels.js';
import type { RequestInfo } from '../../request-info.js';
import type { ServedResource } from '../../resource-registry.js';
import type { KubeObject, RequestContext } from '../../registry/strategy.js';
import type { Patcher } from '../patch.js';
import { applyPatch } from '../patch.js';
import { asKubeObject, decodeBody, sendJSON } from '../codec.js';
import type { SubresourceHandler } from '../resource-handler.js';

/** Where a resource keeps its replica counts: built-ins use spec.replicas; CRDs name their paths. */
export interface ScalePaths {
  specReplicasPath: string;
  statusReplicasPath: string;
  labelSelectorPath?: string;
}

const builtinPaths: ScalePaths = { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas' };

function getPath(obj: unknown, path: string): unknown {
  let cur: unknown = obj;
  for (const part of path.replace(/^\./, '').split('.')) {
    if (typeof cur !== 'object' || cur === null) return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

function setPath(obj: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.replace(/^\./, '').split('.');
  let cur = obj;
  for (const part of parts.slice(0, -1)) {
    const next = cur[part];
    if (typeof next !== 'object' || next === null) cur[part] = {};
    cur = cur[part] as Record<string, unknown>;
  }
  cur[parts[parts.length - 1]!] = value;
}

/**
 * The `scale` subresource (autoscaling/v1 Scale), for Deployments, ReplicaSets, StatefulSets,
 * ReplicationControllers and custom resources that declare it.
 */
export class ScaleHandler implements SubresourceHandler {
  constructor(
    private readonly patcher: Patcher,
    private readonly pathsFor: (served: ServedResource) => ScalePaths | undefined = () => builtinPaths,
  ) {}

  private toScale(served: ServedResource, obj: KubeObject, paths: ScalePaths): KubeObject {
    let selector: unknown;
    if (paths.labelSelectorPath) selector = getPath(obj, paths.labelSelectorPath);
    else if (served.crdName) selector = undefined;
    else if (served.descriptor.kind === 'ReplicationController') {
      selector = Object.entries((getPath(obj, '.spec.selector') as Record<string, string> | undefined) ?? {}).map(([k, v]) => `${k}=${v}`).join(',');
    } else {
      const formatted = formatLabelSelector(getPath(obj, '.spec.selector') as Parameters<typeof formatLabelSelector>[0]);
      selector = formatted === '<none>' ? '' : formatted;
    }
    const status: Record<string, unknown> = { replicas: (getPath(obj, paths.statusReplicasPath) as number | undefined) ?? 0 };
    if (selector) status['selector'] = selector;
    const meta = obj.metadata ?? {};
    return {
      kind: 'Scale',
      apiVersion: 'autoscaling/v1',
      metadata: { name: meta.name, namespace: meta.namespace, uid: meta.uid, resourceVersion: meta.resourceVersion, creationTimestamp: meta.creationTimestamp },
      spec: { replicas: (getPath(obj, paths.specReplicasPath) as number | undefined) ?? 0 },
      status,
    };
  }

  async handle(req: IncomingMessage, res: ServerResponse, info: RequestInfo, served: ServedResource, ctx: RequestContext, body: () => Promise<Buffer>): Promise<void> {
    const paths = this.pathsFor(served);
    if (!paths) throw methodNotAllowed('the server does not allow this method on the requested resource');
    const store = served.store;
    for (let attempt = 0; ; attempt++) {
      const current = await store.get(ctx.namespace, info.name);
      const scale = this.toScale(served, current, paths);
      if (info.verb === 'get') {
        sendJSON(res, 200, scale);
        return;
      }
      let wanted: KubeObject;
      if (info.verb === 'update') wanted = asKubeObject(decodeBody(await body(), req.headers['content-type']));
      else if (info.verb === 'patch') wanted = applyPatch(this.patcher, (req.headers['content-type'] ?? '').split(';')[0]!.trim(), scale, decodeBody(await body(), 'application/json', 'patch'), undefined);
      else throw methodNotAllowed('the server does not allow this method on the requested resource');
      // Go clients omit a zero: `{"spec":{}}` asks for 0 replicas.
      const replicas = (wanted.spec as { replicas?: unknown } | undefined)?.replicas ?? 0;
      if (typeof replicas !== 'number' || !Number.isInteger(replicas)) throw badRequest('Scale spec.replicas must be an integer');
      if (replicas < 0) {
        const { invalid } = await import('../../../machinery/status-error.js');
        throw invalid('autoscaling', 'Scale', info.name, [{ type: 'FieldValueInvalid', field: 'spec.replicas', value: replicas, detail: 'must be greater than or equal to 0' }]);
      }
      const wantedRV = wanted.metadata?.resourceVersion;
      const next = structuredClone(current);
      setPath(next as Record<string, unknown>, paths.specReplicasPath, replicas);
      next.metadata ??= {};
      next.metadata.resourceVersion = wantedRV || current.metadata?.resourceVersion;
      try {
        const updated = await store.update(ctx.namespace, info.name, next, ctx, { dryRun: ctx.dryRun, fieldManager: new URL(req.url ?? '/', 'http://x').searchParams.get('fieldManager') ?? (req.headers['user-agent'] ?? '').split('/')[0] ?? '' });
        sendJSON(res, 200, this.toScale(served, updated, paths));
        return;
      } catch (e) {
        if (!wantedRV && attempt < 5 && e instanceof Error && 'reason' in e && (e as { reason: string }).reason === 'Conflict') continue;
        throw e;
      }
    }
  }
}
