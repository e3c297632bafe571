/**
 * Request authorization, shaped as Kubernetes' `authorizer.Authorizer`: after authentication,
 * each request is described by its attributes (who, verb, what) and the authorizer decides.
 * RBAC is one implementation among these; the others here are the always-on ones.
 */
import { StatusError, type StatusDetails } from '../../machinery/status-error.js';
import { GROUP_AUTHENTICATED, GROUP_MASTERS, type UserInfo } from './authenticator.js';

/** What a request wants to do, as `authorizer.Attributes`. */
export interface AuthorizationAttributes {
  user: UserInfo;
  /** `get list watch create update patch delete deletecollection` for resources; the lower-case HTTP method for other paths. */
  verb: string;
  /** '' for the core group. */
  apiGroup: string;
  /** Plural resource, e.g. `pods`; '' for non-resource requests. */
  resource: string;
  /** e.g. `status`, `log`, `exec`; '' when none. */
  subresource: string;
  /** '' for cluster-scoped resources and for requests across all namespaces. */
  namespace: string;
  /** '' for list/watch/create/deletecollection. */
  name: string;
  /** false for non-resource paths such as `/healthz`, `/version`, `/api`. */
  resourceRequest: boolean;
  /** The request path, e.g. `/api/v1/namespaces/default/pods`. */
  path: string;
}

export interface AuthorizationDecision {
  allowed: boolean;
  /** Why it was allowed or denied; a denial's reason is appended to the 403 message. */
  reason?: string;
}

/**
 * Called once per authenticated request, before admission and the registry. It must not
 * change the attributes; it may be asynchronous (RBAC reads roles from a cache).
 */
export interface Authorizer {
  authorize(attrs: AuthorizationAttributes): Promise<AuthorizationDecision>;
}

/** Allows every request of a `system:masters` member (Kubernetes' privileged-group authorizer); no opinion otherwise. */
export class SystemMastersAuthorizer implements Authorizer {
  async authorize(attrs: AuthorizationAttributes): Promise<AuthorizationDecision> {
    return attrs.user.groups.includes(GROUP_MASTERS) ? { allowed: true, reason: `user is in group ${GROUP_MASTERS}` } : { allowed: false };
  }
}

/** Allows every request of any authenticated user. A stopgap until RBAC, never for production. */
export class AlwaysAllowAuthenticatedAuthorizer implements Authorizer {
  async authorize(attrs: AuthorizationAttributes): Promise<AuthorizationDecision> {
    return attrs.user.groups.includes(GROUP_AUTHENTICATED) ? { allowed: true } : { allowed: false };
  }
}

/** Asks each authorizer in turn; the first that allows wins (Kubernetes' authorizer union). */
export class UnionAuthorizer implements Authorizer {
  constructor(private readonly authorizers: readonly Authorizer[]) {}

  async authorize(attrs: AuthorizationAttributes): Promise<AuthorizationDecision> {
    const reasons: string[] = [];
    for (const a of this.authorizers) {
      const decision = await a.authorize(attrs);
      if (decision.allowed) return decision;
      if (decision.reason) reasons.push(decision.reason);
    }
    return reasons.length > 0 ? { allowed: false, reason: reasons.join(', ') } : { allowed: false };
  }
}

/** Go's %q for the plain strings that appear here. */
const q = (s: string): string => JSON.stringify(s);

// Kubernetes escapes these in the message so it is never rendered as HTML.
const sanitize = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** The sentence after "is forbidden:", e.g. `User "bob" cannot list resource "pods" in API group "" in the namespace "default"`. */
export function forbiddenMessage(attrs: AuthorizationAttributes): string {
  const user = q(attrs.user.name);
  if (!attrs.resourceRequest) return `User ${user} cannot ${attrs.verb} path ${q(attrs.path)}`;
  const resource = attrs.subresource ? `${attrs.resource}/${attrs.subresource}` : attrs.resource;
  const where = attrs.namespace ? `in the namespace ${q(attrs.namespace)}` : 'at the cluster scope';
  return `User ${user} cannot ${attrs.verb} resource ${q(resource)} in API group ${q(attrs.apiGroup)} ${where}`;
}

/**
 * The 403 Kubernetes sends when authorization denies a request:
 * `pods is forbidden: User "bob" cannot list resource "pods" in API group "" in the namespace "default"`,
 * `deployments.apps "web" is forbidden: …` with a name, `forbidden: User "bob" cannot get path "/logs"`
 * for non-resource paths; a reason, when given, follows after ": ".
 */
export function forbidden(attrs: AuthorizationAttributes, reason?: string): StatusError {
  const sentence = sanitize(forbiddenMessage(attrs)) + (reason ? `: ${reason}` : '');
  const group = attrs.resourceRequest ? attrs.apiGroup : '';
  const resource = attrs.resourceRequest ? attrs.resource : '';
  const name = attrs.resourceRequest ? attrs.name : '';
  const qualified = group ? `${resource}.${group}` : resource;
  let message: string;
  if (!qualified) message = `forbidden: ${sentence}`;
  else if (!name) message = `${qualified} is forbidden: ${sentence}`;
  else message = `${qualified} ${q(name)} is forbidden: ${sentence}`;
  // Empty fields are omitted, as Go's omitempty does; a non-resource denial has `details: {}`.
  const details: StatusDetails = {};
  if (name) details.name = name;
  if (group) details.group = group;
  if (resource) details.kind = resource;
  return new StatusError(403, 'Forbidden', message, details);
}

/** The 401 lives with authentication; re-exported so both error bodies come from here. */
export { unauthorized } from './authenticator.js';
