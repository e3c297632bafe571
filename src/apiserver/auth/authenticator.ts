/**
 * Request authentication, shaped as Kubernetes' `authenticator.Request`: each authenticator
 * looks at one kind of credential and either names the user, has no opinion, or rejects the
 * credential outright (which must end the request with 401, never fall back to anonymous).
 */
import type { IncomingMessage } from 'node:http';
import { X509Certificate, createHash, createPublicKey, type KeyObject } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import { StatusError } from '../../machinery/status-error.js';

/** Who made a request, as `user.Info` in Kubernetes. */
export interface UserInfo {
  name: string;
  uid?: string;
  groups: string[];
  extra?: Record<string, string[]>;
}

export const GROUP_AUTHENTICATED = 'system:authenticated';
export const GROUP_UNAUTHENTICATED = 'system:unauthenticated';
export const USER_ANONYMOUS = 'system:anonymous';
export const GROUP_MASTERS = 'system:masters';

/**
 * Called once per request, before authorization, with the request as received (headers and
 * TLS socket). It may remove the credential it consumed from the headers (as the bearer-token
 * authenticator does) and must change nothing else.
 */
export interface Authenticator {
  /**
   * Returns the user the request's credentials prove; `undefined` when the request carries
   * no credential of this authenticator's kind. Throws the 401 `StatusError` of
   * `unauthorized()` when it carries one that is invalid (unknown token, untrusted certificate).
   */
  authenticate(req: IncomingMessage): UserInfo | undefined;
}

/**
 * The 401 body Kubernetes sends: message and reason `Unauthorized`, nothing else. The real
 * cause is kept on `cause` for the server's log only, never sent to the client.
 */
export function unauthorized(cause?: string): StatusError {
  const err = new StatusError(401, 'Unauthorized', 'Unauthorized');
  if (cause !== undefined) err.cause = cause;
  return err;
}

function withAuthenticatedGroup(groups: string[]): string[] {
  return groups.includes(GROUP_AUTHENTICATED) ? [...groups] : [...groups, GROUP_AUTHENTICATED];
}

const EKU_CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';
const EKU_ANY = '2.5.29.37.0';

/**
 * Authenticates the TLS client certificate against the client CA(s): user = CN, groups = each
 * O, plus `system:authenticated`. It verifies the certificate itself (issuer, signature,
 * validity, clientAuth usage) rather than trusting `socket.authorized`, so it holds whatever
 * `ca` the server was given. The HTTPS server must still ask for certificates:
 * `https.createServer({ requestCert: true, rejectUnauthorized: false, ca: clientCaPem })`,
 * and `ca` is also what tells clients (kubectl) which of their certificates to send.
 * Only certificates issued directly by a client CA are accepted (no intermediates).
 */
export class ClientCertificateAuthenticator implements Authenticator {
  private readonly cas: { cert: X509Certificate; key: KeyObject }[];

  constructor(
    clientCaPems: string | string[],
    private readonly now: () => Date = () => new Date(),
  ) {
    const pems = (Array.isArray(clientCaPems) ? clientCaPems : [clientCaPems]).flatMap(splitPemBundle);
    this.cas = pems.map((pem) => ({ cert: new X509Certificate(pem), key: createPublicKey(pem) }));
  }

  /**
   * A connection's client certificate never changes, so it is checked once per connection (the
   * parse and signature check cost more than the rest of a small request); validity dates are
   * re-checked on every request.
   */
  private readonly verified = new WeakMap<object, { user: UserInfo; notBefore: number; notAfter: number }>();

  authenticate(req: IncomingMessage): UserInfo | undefined {
    const socket = req.socket as Partial<TLSSocket>;
    if (typeof socket.getPeerCertificate !== 'function') return undefined;
    const cached = this.verified.get(socket);
    if (cached) {
      const now = this.now().getTime();
      if (now >= cached.notBefore && now <= cached.notAfter) return cached.user;
      throw unauthorized('client certificate has expired or is not yet valid');
    }
    const peer = socket.getPeerCertificate(false);
    // Node returns an empty object when the client sent no certificate.
    if (!peer || !peer.raw || peer.raw.length === 0) return undefined;

    let cert: X509Certificate;
    try {
      cert = new X509Certificate(peer.raw);
    } catch {
      throw unauthorized('client certificate could not be parsed');
    }
    const issuer = this.cas.find((ca) => cert.checkIssued(ca.cert) && cert.verify(ca.key));
    if (!issuer) throw unauthorized(`client certificate ${cert.subject.replace(/\n/g, ', ')} is not signed by a trusted client CA`);
    const now = this.now().getTime();
    if (now < Date.parse(cert.validFrom) || now > Date.parse(cert.validTo)) throw unauthorized('client certificate has expired or is not yet valid');
    if (now < Date.parse(issuer.cert.validFrom) || now > Date.parse(issuer.cert.validTo)) throw unauthorized('client CA has expired or is not yet valid');
    const ekus = cert.keyUsage; // Node names the extended key usages `keyUsage`.
    if (ekus && ekus.length > 0 && !ekus.includes(EKU_CLIENT_AUTH) && !ekus.includes(EKU_ANY)) {
      throw unauthorized('client certificate is not valid for client authentication');
    }

    const cn = fieldValues(peer.subject, 'CN');
    const name = cn[0] ?? '';
    if (name === '') throw unauthorized('client certificate has no common name');
    const fingerprint = createHash('sha256').update(peer.raw).digest('hex');
    const user: UserInfo = {
      name,
      groups: withAuthenticatedGroup(fieldValues(peer.subject, 'O')),
      extra: { 'authentication.kubernetes.io/credential-id': [`X509SHA256=${fingerprint}`] },
    };
    const notBefore = Math.max(Date.parse(cert.validFrom), Date.parse(issuer.cert.validFrom));
    const notAfter = Math.min(Date.parse(cert.validTo), Date.parse(issuer.cert.validTo));
    this.verified.set(socket, { user, notBefore, notAfter });
    return user;
  }
}

/** Node gives a repeated subject attribute (several O's) as an array, a single one as a string. */
function fieldValues(subject: unknown, field: string): string[] {
  if (typeof subject !== 'object' || subject === null) return [];
  const value: unknown = (subject as Record<string, unknown>)[field];
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
  return [];
}

function splitPemBundle(bundle: string): string[] {
  return bundle.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
}

/**
 * Authenticates `Authorization: Bearer <token>` against a fixed table (Kubernetes'
 * `--token-auth-file`). A known token's header is removed once consumed, as Kubernetes does,
 * so nothing downstream is tempted to reuse it; an unknown token is a 401.
 */
export class TokenAuthenticator implements Authenticator {
  private readonly byHash = new Map<string, UserInfo>();

  constructor(tokens: ReadonlyMap<string, UserInfo> | Readonly<Record<string, UserInfo>>) {
    const entries = tokens instanceof Map ? [...tokens.entries()] : Object.entries(tokens);
    // Looking up by digest keeps the comparison's timing independent of the secret.
    for (const [token, user] of entries) {
      if (token === '') continue;
      this.byHash.set(digest(token), { ...user, groups: withAuthenticatedGroup(user.groups) });
    }
  }

  authenticate(req: IncomingMessage): UserInfo | undefined {
    const header = req.headers.authorization?.trim();
    if (!header) return undefined;
    const parts = header.split(/\s+/);
    if (parts.length < 2 || parts[0]?.toLowerCase() !== 'bearer') return undefined;
    const token = parts[1] ?? '';
    if (token === '') return undefined;
    const user = this.byHash.get(digest(token));
    if (!user) throw unauthorized('invalid bearer token');
    delete req.headers.authorization;
    return { ...user, groups: [...user.groups], ...(user.extra ? { extra: { ...user.extra } } : {}) };
  }
}

function digest(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/**
 * The user that `k8ts server --token T` makes of `Bearer T`. In k3s the token is not an API
 * credential: it authenticates joining nodes to the supervisor (basic auth `server:T` /
 * `node:T` on `/v1-k3s/...`), and a server-token holder can fetch the cluster's CA keys, i.e.
 * is all-powerful anyway. k8ts has no separate supervisor, so the token is accepted by the
 * apiserver directly with that same power: a `system:masters` member.
 */
export const SERVER_TOKEN_USER: Readonly<UserInfo> = Object.freeze({ name: 'system:k8ts:server', groups: [GROUP_MASTERS] });

/** Everyone without credentials: `system:anonymous` in `system:unauthenticated`. */
export class AnonymousAuthenticator implements Authenticator {
  authenticate(): UserInfo {
    return { name: USER_ANONYMOUS, groups: [GROUP_UNAUTHENTICATED] };
  }
}

/**
 * Tries each authenticator in order; the first user found wins. By default (Kubernetes'
 * `union.New`) a rejected credential does not stop the search, and is thrown only when no
 * other authenticator names a user; with `failOnError` (Kubernetes' `union.NewFailOnError`)
 * the first rejection is thrown at once.
 */
export class UnionAuthenticator implements Authenticator {
  constructor(
    private readonly authenticators: readonly Authenticator[],
    private readonly options: { failOnError?: boolean } = {},
  ) {}

  authenticate(req: IncomingMessage): UserInfo | undefined {
    let firstError: StatusError | undefined;
    for (const a of this.authenticators) {
      try {
        const user = a.authenticate(req);
        if (user) return user;
      } catch (err) {
        if (!(err instanceof StatusError) || err.code !== 401 || this.options.failOnError) throw err;
        firstError ??= err;
      }
    }
    if (firstError) throw firstError;
    return undefined;
  }
}

/**
 * The apiserver's chain, as kube-apiserver builds it: the credential authenticators in a
 * union, then, when anonymous requests are allowed, `system:anonymous` for requests that
 * carry no credential at all (an invalid credential stays a 401). k3s runs with
 * `--anonymous-auth=false`; then a request without credentials is a 401 too.
 */
export function requestAuthenticator(authenticators: readonly Authenticator[], opts: { anonymous: boolean }): Authenticator {
  const credentials = new UnionAuthenticator(authenticators);
  const chain = opts.anonymous ? new UnionAuthenticator([credentials, new AnonymousAuthenticator()], { failOnError: true }) : credentials;
  return {
    authenticate(req) {
      const user = chain.authenticate(req);
      if (!user) throw unauthorized('no credentials');
      return user;
    },
  };
}
