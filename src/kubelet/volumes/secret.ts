/**
 * secret: the Secret's keys (or `items`) as files through the AtomicWriter, on a tmpfs so that
 * secrets never reach the node's disk, as Kubernetes does.
 */
import type { KeyToPath, Pod, Secret, Volume } from 'kubernetes-types/core/v1.js';
import { isNotFound } from '../../client/interface.js';
import { refs } from '../../client/informer.js';
import { writeAtomic, type Payload } from './atomic-writer.js';
import { defaultFileMode } from './config-map.js';
import { ensureMemoryDir } from './empty-dir.js';
import { podUid, type ReadyVolume, type VolumeHost, type VolumePlugin } from './volume-plugin.js';

/** The Secret, or undefined when it does not exist. */
export async function getSecret(host: VolumeHost, namespace: string, name: string): Promise<Secret | undefined> {
  try {
    return (await host.client.get(refs.secrets, namespace, name)) as Secret;
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw e;
  }
}

export function secretNotFound(name: string): Error {
  return new Error(`secret "${name}" not found`);
}

/** The files of a secret volume or projection (Kubernetes' secret.MakePayload); `data` is base64. */
export function secretPayload(items: KeyToPath[] | undefined, secret: Secret, defaultMode: number | undefined, optional: boolean): Payload {
  const mode = defaultMode ?? defaultFileMode;
  const payload: Payload = new Map();
  const data = secret.data ?? {};
  if (!items?.length) {
    for (const [k, v] of Object.entries(data)) payload.set(k, { data: Buffer.from(v, 'base64'), mode });
    return payload;
  }
  for (const item of items) {
    if (!Object.hasOwn(data, item.key)) {
      if (optional) continue;
      throw new Error(`references non-existent secret key: ${item.key}`);
    }
    payload.set(item.path, { data: Buffer.from(data[item.key] ?? '', 'base64'), mode: item.mode ?? mode });
  }
  return payload;
}

export class SecretPlugin implements VolumePlugin {
  readonly name = 'kubernetes.io~secret';

  handles(volume: Volume): boolean {
    return !!volume.secret;
  }

  async setUp(pod: Pod, volume: Volume, host: VolumeHost): Promise<ReadyVolume> {
    const source = volume.secret ?? {};
    const name = source.secretName ?? '';
    const optional = source.optional === true;
    const secret = (await getSecret(host, pod.metadata?.namespace ?? '', name)) ?? (optional ? {} : undefined);
    if (!secret) throw secretNotFound(name);
    const payload = secretPayload(source.items, secret, source.defaultMode, optional);
    const dir = host.volumeDir(podUid(pod), this.name, volume.name);
    await ensureMemoryDir(dir, host);
    await writeAtomic(dir, payload, host.clock.now());
    return { hostPath: dir, readOnly: true, selinuxRelabel: true, projected: true };
  }
}
