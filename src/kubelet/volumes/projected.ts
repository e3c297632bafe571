/**
 * projected: configMap, secret, downwardAPI and serviceAccountToken sources merged into one
 * directory (the default `kube-api-access-*` volume: a token, kube-root-ca.crt's `ca.crt` and the
 * namespace), on a tmpfs, through the AtomicWriter; `refresh` renews the token at 80% of its life.
 */
import type { Pod, Volume } from 'kubernetes-types/core/v1.js';
import type { Payload } from './atomic-writer.js';
import { writeAtomic } from './atomic-writer.js';
import { configMapNotFound, configMapPayload, defaultFileMode, getConfigMap } from './config-map.js';
import { downwardPayload } from './downward-api.js';
import { ensureMemoryDir } from './empty-dir.js';
import { getSecret, secretNotFound, secretPayload } from './secret.js';
import { podUid, type ReadyVolume, type VolumeHost, type VolumePlugin } from './volume-plugin.js';

/** Every file of a projected volume; errors of all sources are reported together, as Kubernetes aggregates them. */
export async function projectedPayload(pod: Pod, volume: Volume, host: VolumeHost): Promise<Payload> {
  const source = volume.projected ?? {};
  const mode = source.defaultMode ?? defaultFileMode;
  const namespace = pod.metadata?.namespace ?? '';
  const payload: Payload = new Map();
  const errors: string[] = [];
  const merge = (p: Payload): void => {
    for (const [k, v] of p) payload.set(k, v);
  };
  for (const s of source.sources ?? []) {
    try {
      if (s.configMap) {
        const optional = s.configMap.optional === true;
        const cm = (await getConfigMap(host, namespace, s.configMap.name ?? '')) ?? (optional ? {} : undefined);
        if (!cm) throw configMapNotFound(s.configMap.name ?? '');
        merge(configMapPayload(s.configMap.items, cm, mode, optional));
      } else if (s.secret) {
        const optional = s.secret.optional === true;
        const secret = (await getSecret(host, namespace, s.secret.name ?? '')) ?? (optional ? {} : undefined);
        if (!secret) throw secretNotFound(s.secret.name ?? '');
        merge(secretPayload(s.secret.items, secret, mode, optional));
      } else if (s.downwardAPI) {
        merge(await downwardPayload(s.downwardAPI.items, pod, mode, host));
      } else if (s.serviceAccountToken) {
        const t = s.serviceAccountToken;
        const token = await host.tokens.get(pod, {
          serviceAccountName: pod.spec?.serviceAccountName || 'default',
          audiences: t.audience ? [t.audience] : [],
          expirationSeconds: t.expirationSeconds ?? 3600,
        });
        payload.set(t.path, { data: Buffer.from(token, 'utf8'), mode });
      } else if (s.clusterTrustBundle) {
        throw new Error('clusterTrustBundle projections are not supported by this kubelet');
      }
    } catch (e) {
      errors.push((e as Error).message);
    }
  }
  if (errors.length === 1) throw new Error(errors[0]);
  if (errors.length > 1) throw new Error(`[${errors.join(', ')}]`);
  return payload;
}

export class ProjectedPlugin implements VolumePlugin {
  readonly name = 'kubernetes.io~projected';

  handles(volume: Volume): boolean {
    return !!volume.projected;
  }

  async setUp(pod: Pod, volume: Volume, host: VolumeHost): Promise<ReadyVolume> {
    const payload = await projectedPayload(pod, volume, host);
    const dir = host.volumeDir(podUid(pod), this.name, volume.name);
    await ensureMemoryDir(dir, host);
    await writeAtomic(dir, payload, host.clock.now());
    return { hostPath: dir, readOnly: true, selinuxRelabel: true, projected: true };
  }
}
