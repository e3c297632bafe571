import type { ServerResponse } from 'node:http';
import { badRequest, methodNotAllowed, StatusError } from '../../machinery/status-error.js';
import type { AuthorizationAttributes, Authorizer } from '../auth/authorizer.js';
import type { UserInfo } from '../auth/authenticator.js';
import type { RequestInfo } from '../request-info.js';
import { asKubeObject, decodeBody, isObject, sendJSON } from './codec.js';

interface ResourceAttributes {
  namespace?: string;
  verb?: string;
  group?: string;
  resource?: string;
  subresource?: string;
  name?: string;
}

/**
 * The create-only review resources, answered and never stored: SelfSubjectReview (`kubectl auth
 * whoami`), TokenReview, and the access reviews behind `kubectl auth can-i`.
 */
export class ReviewHandler {
  constructor(
    private readonly authorizer: Authorizer,
    /** Who a bearer token belongs to (undefined when it is not valid). */
    private readonly tokenUser: (token: string, audiences: string[]) => Promise<UserInfo | undefined>,
    private readonly now: () => Date,
  ) {}

  async handle(res: ServerResponse, info: RequestInfo, caller: UserInfo, body: Buffer, contentType: string | undefined): Promise<void> {
    if (info.verb !== 'create') throw methodNotAllowed('the server does not allow this method on the requested resource');
    const review = asKubeObject(decodeBody(body, contentType));
    const spec = (isObject(review.spec) ? review.spec : {}) as Record<string, unknown>;
    const apiVersion = `${info.group}/${info.version}`;
    const reply = (kind: string, status: unknown, extraSpec?: unknown): void =>
      sendJSON(res, 201, { kind, apiVersion, metadata: { creationTimestamp: null, ...(info.namespace ? { namespace: info.namespace } : {}) }, spec: extraSpec ?? spec, status });
    switch (info.resource) {
      case 'selfsubjectreviews':
        sendJSON(res, 201, { kind: 'SelfSubjectReview', apiVersion, metadata: { creationTimestamp: this.now().toISOString().replace(/\.\d+Z$/, 'Z') }, status: { userInfo: userInfoOf(caller) } });
        return;
      case 'tokenreviews': {
        const token = typeof spec['token'] === 'string' ? spec['token'] : '';
        if (!token) throw badRequest('TokenReview: spec.token is required');
        const audiences = Array.isArray(spec['audiences']) ? (spec['audiences'] as string[]) : [];
        const user = await this.tokenUser(token, audiences);
        reply('TokenReview', user ? { authenticated: true, user: userInfoOf(user), audiences } : { authenticated: false, error: 'invalid bearer token' }, { ...spec, token: '' });
        return;
      }
      case 'selfsubjectaccessreviews':
        reply('SelfSubjectAccessReview', await this.decide(caller, spec, ''));
        return;
      case 'subjectaccessreviews':
        reply('SubjectAccessReview', await this.decide(subjectOf(spec), spec, ''));
        return;
      case 'localsubjectaccessreviews': {
        const attrs = (spec['resourceAttributes'] ?? {}) as ResourceAttributes;
        if (attrs.namespace && attrs.namespace !== info.namespace) {
          throw new StatusError(422, 'Invalid', `LocalSubjectAccessReview.authorization.k8s.io "" is invalid: spec.resourceAttributes.namespace: Invalid value: "${attrs.namespace}": must match metadata.namespace`);
        }
        reply('LocalSubjectAccessReview', await this.decide(subjectOf(spec), { ...spec, resourceAttributes: { ...attrs, namespace: info.namespace } }, info.namespace));
        return;
      }
      case 'selfsubjectrulesreviews': {
        const namespace = typeof spec['namespace'] === 'string' ? spec['namespace'] : '';
        // The pluggable authorizer answers yes/no; rules are known only when it allows everything.
        const everything = await this.authorizer.authorize({ user: caller, verb: '*', apiGroup: '*', resource: '*', subresource: '', namespace, name: '', resourceRequest: true, path: '' });
        reply('SelfSubjectRulesReview', everything.allowed
          ? { resourceRules: [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }], nonResourceRules: [{ verbs: ['*'], nonResourceURLs: ['*'] }], incomplete: false }
          : { resourceRules: [], nonResourceRules: [], incomplete: true, evaluationError: 'the authorizer cannot list rules' });
        return;
      }
      default:
        throw new StatusError(404, 'NotFound', 'the server could not find the requested resource', {});
    }
  }

  private async decide(user: UserInfo, spec: Record<string, unknown>, namespace: string): Promise<{ allowed: boolean; reason?: string }> {
    const ra = spec['resourceAttributes'] as ResourceAttributes | undefined;
    const nra = spec['nonResourceAttributes'] as { path?: string; verb?: string } | undefined;
    let attrs: AuthorizationAttributes;
    if (ra) {
      attrs = { user, verb: ra.verb ?? '', apiGroup: ra.group ?? '', resource: ra.resource ?? '', subresource: ra.subresource ?? '', namespace: ra.namespace ?? namespace, name: ra.name ?? '', resourceRequest: true, path: '' };
    } else if (nra) {
      attrs = { user, verb: nra.verb ?? '', apiGroup: '', resource: '', subresource: '', namespace: '', name: '', resourceRequest: false, path: nra.path ?? '' };
    } else {
      throw new StatusError(422, 'Invalid', 'SubjectAccessReview.authorization.k8s.io "" is invalid: spec.resourceAttributes: Invalid value: "null": exactly one of nonResourceAttributes or resourceAttributes must be specified');
    }
    const decision = await this.authorizer.authorize(attrs);
    return decision.reason ? { allowed: decision.allowed, reason: decision.reason } : { allowed: decision.allowed };
  }
}

function userInfoOf(u: UserInfo): Record<string, unknown> {
  const out: Record<string, unknown> = { username: u.name, groups: u.groups };
  if (u.uid) out['uid'] = u.uid;
  if (u.extra) out['extra'] = u.extra;
  return out;
}

function subjectOf(spec: Record<string, unknown>): UserInfo {
  const groups = Array.isArray(spec['groups']) ? (spec['groups'] as string[]) : [];
  return { name: typeof spec['user'] === 'string' ? spec['user'] : '', groups: groups.includes('system:authenticated') || !spec['user'] ? groups : [...groups, 'system:authenticated'], uid: typeof spec['uid'] === 'string' ? spec['uid'] : undefined };
}
