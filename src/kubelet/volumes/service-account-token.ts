/**
 * Service-account tokens for projected volumes, as the kubelet's token manager keeps them: one
 * TokenRequest per (service account, audiences, lifetime, bound pod), reused until 80% of its
 * life has passed (or it is a day old), then requested anew.
 */
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { Client } from '../../client/interface.js';
import { refs } from '../../client/informer.js';
import type { Clock } from '../../machinery/clock.js';

export interface TokenRequestSpec {
  serviceAccountName: string;
  audiences: string[];
  expirationSeconds: number;
}

interface CachedToken {
  token: string;
  issuedAt: number;
  expiresAt: number;
  podUid: string;
}

const maxTokenAgeMs = 24 * 3600 * 1000;

export class TokenCache {
  private readonly tokens = new Map<string, CachedToken>();

  constructor(
    private readonly client: Client,
    private readonly clock: Clock,
  ) {}

  private static key(pod: Pod, spec: TokenRequestSpec): string {
    return JSON.stringify([pod.metadata?.namespace ?? '', spec.serviceAccountName, spec.audiences, spec.expirationSeconds, pod.metadata?.name ?? '', pod.metadata?.uid ?? '']);
  }

  /** Whether a token has lived past 80% of its lifetime or a day. */
  private requiresRefresh(t: CachedToken): boolean {
    const now = this.clock.now().getTime();
    const life = t.expiresAt - t.issuedAt;
    return now >= t.issuedAt + life * 0.8 || now - t.issuedAt > maxTokenAgeMs;
  }

  /** The token for this pod and spec: the cached one while fresh, else a new TokenRequest. */
  async get(pod: Pod, spec: TokenRequestSpec): Promise<string> {
    const key = TokenCache.key(pod, spec);
    const cached = this.tokens.get(key);
    if (cached && !this.requiresRefresh(cached)) return cached.token;
    const namespace = pod.metadata?.namespace ?? '';
    let res: { status?: { token?: string; expirationTimestamp?: string } };
    try {
      res = (await this.client.create(
        refs.serviceaccounts,
        namespace,
        {
          apiVersion: 'authentication.k8s.io/v1',
          kind: 'TokenRequest',
          metadata: { name: spec.serviceAccountName, namespace },
          spec: {
            audiences: spec.audiences,
            expirationSeconds: spec.expirationSeconds,
            boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: pod.metadata?.name ?? '', uid: pod.metadata?.uid ?? '' },
          },
        },
        { subresource: 'token' },
      )) as typeof res;
    } catch (e) {
      // an old token still valid is better than none while the API server is away
      if (cached && cached.expiresAt > this.clock.now().getTime()) return cached.token;
      throw new Error(`failed to fetch token: ${(e as Error).message}`);
    }
    const token = res.status?.token;
    if (!token) throw new Error('failed to fetch token: the API server returned no token');
    const issuedAt = this.clock.now().getTime();
    const exp = res.status?.expirationTimestamp ? Date.parse(res.status.expirationTimestamp) : NaN;
    const expiresAt = Number.isFinite(exp) ? exp : issuedAt + spec.expirationSeconds * 1000;
    this.tokens.set(key, { token, issuedAt, expiresAt, podUid: pod.metadata?.uid ?? '' });
    return token;
  }

  /** Forgets the tokens of a pod that is gone. */
  forgetPod(uid: string): void {
    for (const [k, t] of this.tokens) if (t.podUid === uid) this.tokens.delete(k);
  }
}
