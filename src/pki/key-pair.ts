/**
 * Private keys for the cluster's certificates: generation (ECDSA P-256, as k3s uses), PEM
 * export (PKCS#8) and import of any PEM key Node understands (PKCS#8, SEC1 `EC PRIVATE KEY`,
 * PKCS#1 `RSA PRIVATE KEY`), so that a CA brought by the user also works.
 */
import { createPrivateKey, webcrypto } from 'node:crypto';
import * as x509 from './x509.js';

const subtle = webcrypto.subtle as unknown as SubtleCrypto;

/** A fresh, extractable ECDSA P-256 key pair. */
export async function generateKeyPair(): Promise<CryptoKeyPair> {
  const params: EcKeyGenParams = { name: 'ECDSA', namedCurve: 'P-256' };
  return subtle.generateKey(params, true, ['sign', 'verify']);
}

/** The WebCrypto import parameters of a PEM key, read from the key itself. */
function importParamsOf(keyPem: string): EcKeyImportParams | RsaHashedImportParams {
  const key = createPrivateKey(keyPem);
  if (key.asymmetricKeyType === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    const named = curve === 'prime256v1' ? 'P-256' : curve === 'secp384r1' ? 'P-384' : curve === 'secp521r1' ? 'P-521' : undefined;
    if (!named) throw new Error(`unsupported EC curve ${String(curve)}`);
    return { name: 'ECDSA', namedCurve: named };
  }
  if (key.asymmetricKeyType === 'rsa') return { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
  throw new Error(`unsupported private key type ${String(key.asymmetricKeyType)}`);
}

/** Imports a PEM private key (PKCS#8, SEC1 or PKCS#1) as a signing `CryptoKey`. */
export async function importPrivateKeyPem(keyPem: string): Promise<CryptoKey> {
  const der = createPrivateKey(keyPem).export({ type: 'pkcs8', format: 'der' });
  return subtle.importKey('pkcs8', der, importParamsOf(keyPem), true, ['sign']);
}

/** PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`), which Go's `tls.X509KeyPair` and Node both read. */
export async function exportPrivateKeyPem(key: CryptoKey): Promise<string> {
  const der = await subtle.exportKey('pkcs8', key);
  return x509.PemConverter.encode(der, 'PRIVATE KEY') + '\n';
}

/** The signing algorithm to use with a `CryptoKey` created or imported here. */
export function signingAlgorithmOfKey(key: CryptoKey): EcdsaParams | Algorithm {
  const alg = key.algorithm as { name: string; namedCurve?: string };
  if (alg.name === 'ECDSA') {
    const hash = alg.namedCurve === 'P-384' ? 'SHA-384' : alg.namedCurve === 'P-521' ? 'SHA-512' : 'SHA-256';
    return { name: 'ECDSA', hash } as EcdsaParams;
  }
  return { name: alg.name, hash: 'SHA-256' } as Algorithm;
}
