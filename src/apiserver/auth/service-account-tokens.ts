import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { SignJWT, exportPKCS8, exportSPKI, generateKeyPair, importPKCS8, importSPKI, jwtVerify, type CryptoKey } from 'jose';
import { GROUP_AUTHENTICATED, type UserInfo } from './authenticator.js';

export const defaultIssuer = 'https://kubernetes.default.svc.cluster.local';
const alg = 'ES256';

export interface TokenClaims {
  namespace: string;
  serviceAccountName: string;
  serviceAccountUid: string;
  audiences: string[];
  expirationSeconds: number;
  /** A pod or secret the token is bound to (it is invalid once that object is gone). */
  boundObject?: { kind: string; name: string; uid: string };
}

/**
 * Issues and verifies service-account tokens (JWTs signed with the key under the data dir), as
 * the TokenRequest API and the service-account authenticator do in Kubernetes.
 */
export class ServiceAccountTokens {
  private constructor(
    private readonly privateKey: CryptoKey,
    private readonly publicKey: CryptoKey,
    readonly issuer: string,
  ) {}

  /** Loads `<dir>/service.key` (PKCS#8) and its public half, creating them on first start. */
  static async loadOrCreate(keyPath: string, issuer = defaultIssuer): Promise<ServiceAccountTokens> {
    const pubPath = keyPath.replace(/\.key$/, '.pub');
    if (!existsSync(keyPath)) {
      const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
      await mkdir(dirname(keyPath), { recursive: true });
      await writeFile(keyPath, await exportPKCS8(privateKey), { mode: 0o600 });
      await writeFile(pubPath, await exportSPKI(publicKey), { mode: 0o644 });
    }
    const privateKey = await importPKCS8(await readFile(keyPath, 'utf8'), alg);
    const publicKey = await importSPKI(await readFile(pubPath, 'utf8'), alg);
    return new ServiceAccountTokens(privateKey, publicKey, issuer);
  }

  async issue(claims: TokenClaims, now: Date): Promise<{ token: string; expirationTimestamp: Date }> {
    const iat = Math.floor(now.getTime() / 1000);
    const exp = iat + claims.expirationSeconds;
    const k8s: Record<string, unknown> = {
      namespace: claims.namespace,
      serviceaccount: { name: claims.serviceAccountName, uid: claims.serviceAccountUid },
    };
    if (claims.boundObject) k8s[claims.boundObject.kind.toLowerCase()] = { name: claims.boundObject.name, uid: claims.boundObject.uid };
    const token = await new SignJWT({ 'kubernetes.io': k8s })
      .setProtectedHeader({ alg })
      .setIssuer(this.issuer)
      .setSubject(`system:serviceaccount:${claims.namespace}:${claims.serviceAccountName}`)
      .setAudience(claims.audiences)
      .setIssuedAt(iat)
      .setNotBefore(iat)
      .setExpirationTime(exp)
      .sign(this.privateKey);
    return { token, expirationTimestamp: new Date(exp * 1000) };
  }

  /** The user a token names, or undefined when it is not one of ours (or expired / wrong audience). */
  async verify(token: string, audiences: string[]): Promise<(UserInfo & { serviceAccountUid: string; namespace: string; serviceAccountName: string }) | undefined> {
    try {
      const { payload } = await jwtVerify(token, this.publicKey, { issuer: this.issuer, audience: audiences });
      const k8s = payload['kubernetes.io'] as { namespace?: string; serviceaccount?: { name?: string; uid?: string } } | undefined;
      const ns = k8s?.namespace;
      const name = k8s?.serviceaccount?.name;
      if (!ns || !name) return undefined;
      return {
        name: `system:serviceaccount:${ns}:${name}`,
        uid: k8s.serviceaccount?.uid,
        groups: ['system:serviceaccounts', `system:serviceaccounts:${ns}`, GROUP_AUTHENTICATED],
        serviceAccountUid: k8s.serviceaccount?.uid ?? '',
        namespace: ns,
        serviceAccountName: name,
      };
    } catch {
      return undefined;
    }
  }
}
