/**
 * The token agents join with, in k3s's "secure" form `K10<sha256 of the server CA>::server:<secret>`:
 * the secret authenticates the agent to the server, and the hash lets the agent check that the CA
 * it downloads from `/cacerts` is the cluster's before trusting it. A bare secret works too (no
 * CA check, as with k3s's short tokens).
 */
import { createHash } from 'node:crypto';

export interface JoinToken {
  /** sha256 (hex) of the server CA bundle, when the token carries one. */
  caHash?: string;
  /** What the agent sends as its bearer token. */
  secret: string;
}

export function caHash(caPem: string): string {
  return createHash('sha256').update(caPem).digest('hex');
}

export function formatJoinToken(caPem: string, secret: string): string {
  return `K10${caHash(caPem)}::server:${secret}`;
}

export function parseJoinToken(token: string): JoinToken {
  const t = token.trim();
  const m = /^K10([0-9a-f]{64})::([^:]+):(.+)$/.exec(t);
  if (m) return { caHash: m[1]!, secret: m[3]! };
  return { secret: t };
}
