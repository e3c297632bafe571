import type { IncomingMessage, ServerResponse } from 'node:http';
import { invalid, methodNotAllowed, notFound } from '../../../machinery/status-error.js';
import type { ServiceAccountTokens } from '../../auth/service-account-tokens.js';
import type { RequestInfo } from '../../request-info.js';
import type { ResourceRegistry, ServedResource } from '../../resource-registry.js';
import type { KubeObject, RequestContext } from '../../registry/strategy.js';
import { asKubeObject, decodeBody, sendJSON } from '../codec.js';
import type { SubresourceHandler } from '../resource-handler.js';

interface TokenRequestSpec {
  audiences?: string[];
  expirationSeconds?: number;
  boundObjectRef?: { kind?: string; apiVersion?: string; name?: string; uid?: string };
}

/** `POST serviceaccounts/NAME/token` (authentication.k8s.io/v1 TokenRequest): a signed, expiring token. */
export class ServiceAccountTokenHandler implements SubresourceHandler {
  constructor(
    private readonly tokens: ServiceAccountTokens,
    private readonly registry: ResourceRegistry,
  ) {}

  async handle(req: IncomingMessage, res: ServerResponse, info: RequestInfo, served: ServedResource, ctx: RequestContext, body: () => Promise<Buffer>): Promise<void> {
    if (info.verb !== 'create') throw methodNotAllowed('the server does not allow this method on the requested resource');
    const request = asKubeObject(decodeBody(await body(), req.headers['content-type']));
    sendJSON(res, 201, await issueTokenRequest(this.tokens, this.registry, served, ctx, info.name, request));
  }
}

/**
 * Answers a TokenRequest for the ServiceAccount `name`: checks the expiration and the bound
 * object, then signs a token. Shared by the HTTP handler and the in-process client.
 */
export async function issueTokenRequest(tokens: ServiceAccountTokens, registry: ResourceRegistry, served: ServedResource, ctx: RequestContext, name: string, request: KubeObject): Promise<Record<string, unknown>> {
  const spec = (request.spec ?? {}) as TokenRequestSpec;
  const sa = await served.store.get(ctx.namespace, name);
  const expirationSeconds = spec.expirationSeconds ?? 3600;
  if (expirationSeconds < 600) {
    throw invalid('authentication.k8s.io', 'TokenRequest', name, [{ type: 'FieldValueInvalid', field: 'spec.expirationSeconds', value: expirationSeconds, detail: 'may not specify a duration less than 10 minutes' }]);
  }
  if (expirationSeconds > 2 ** 32) {
    throw invalid('authentication.k8s.io', 'TokenRequest', name, [{ type: 'FieldValueTooLong', field: 'spec.expirationSeconds', detail: 'may not specify a duration larger than 2^32 seconds' }]);
  }
  let boundObject: { kind: string; name: string; uid: string } | undefined;
  const ref = spec.boundObjectRef;
  if (ref?.name && ref.kind) {
    const resource = ref.kind === 'Pod' ? 'pods' : ref.kind === 'Secret' ? 'secrets' : undefined;
    if (!resource) {
      throw invalid('authentication.k8s.io', 'TokenRequest', name, [{ type: 'FieldValueNotSupported', field: 'spec.boundObjectRef.kind', value: ref.kind, detail: 'supported values: "Pod", "Secret"' }]);
    }
    const target = await registry.byGroup('', resource)?.store.tryGet(ctx.namespace, ref.name);
    if (!target || (ref.uid && target.metadata?.uid !== ref.uid)) throw notFound('', resource, ref.name);
    boundObject = { kind: ref.kind, name: ref.name, uid: target.metadata?.uid ?? '' };
  }
  const audiences = spec.audiences?.length ? spec.audiences : [tokens.issuer];
  const issued = await tokens.issue({ namespace: ctx.namespace, serviceAccountName: name, serviceAccountUid: sa.metadata?.uid ?? '', audiences, expirationSeconds, boundObject }, ctx.now);
  return {
    kind: 'TokenRequest',
    apiVersion: 'authentication.k8s.io/v1',
    metadata: { name, namespace: ctx.namespace, creationTimestamp: null },
    spec: { audiences, expirationSeconds, boundObjectRef: spec.boundObjectRef ?? null },
    status: { token: issued.token, expirationTimestamp: issued.expirationTimestamp.toISOString().replace(/\.\d+Z$/, 'Z') },
  };
}
