/**
 * The admin kubeconfig `k8ts server` writes, shaped like k3s' `/etc/rancher/k3s/k3s.yaml`:
 * one cluster, one user and one context, all named `default`, with the CA and client
 * credentials embedded as base64 data so the file works on its own.
 */
import { chmod, mkdir, realpath, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { stringify } from 'yaml';

export interface KubeconfigOptions {
  /** e.g. `https://127.0.0.1:6443`. */
  server: string;
  /** The CA that signed the apiserver's serving certificate. */
  caPem: string;
  clientCertPem: string;
  clientKeyPem: string;
  /** Name of the cluster, user and context; `default` as in k3s. */
  clusterName?: string;
  /** File mode; 0600 unless told otherwise (k3s' `--write-kubeconfig-mode`). */
  mode?: number;
}

const b64 = (pem: string): string => Buffer.from(pem, 'utf8').toString('base64');

/** The kubeconfig text for `opts`. */
export function buildKubeconfig(opts: KubeconfigOptions): string {
  const name = opts.clusterName ?? 'default';
  const config = {
    apiVersion: 'v1',
    clusters: [{ cluster: { 'certificate-authority-data': b64(opts.caPem), server: opts.server }, name }],
    contexts: [{ context: { cluster: name, user: name }, name }],
    'current-context': name,
    kind: 'Config',
    preferences: {},
    users: [{ name, user: { 'client-certificate-data': b64(opts.clientCertPem), 'client-key-data': b64(opts.clientKeyPem) } }],
  };
  return stringify(config, { lineWidth: 0 });
}

/**
 * Writes the kubeconfig to `path` (parents created), replacing any previous one atomically.
 * The mode is enforced even when the file already existed; a symlink at `path` is followed so
 * that, say, `~/.kube/config -> k8ts.yaml` keeps working.
 */
export async function writeKubeconfig(path: string, opts: KubeconfigOptions): Promise<void> {
  const mode = opts.mode ?? 0o600;
  let target = path;
  try {
    target = await realpath(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  await mkdir(dirname(target), { recursive: true });
  const tmp = `${target}.tmp-${process.pid}`;
  await writeFile(tmp, buildKubeconfig(opts), { mode });
  await chmod(tmp, mode); // writeFile's mode is filtered by the umask
  await rename(tmp, target);
}
