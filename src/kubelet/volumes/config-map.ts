/**
 * configMap: the ConfigMap's keys (or the chosen `items`) as files through the AtomicWriter, on a
 * plain directory; `refresh` rewrites them in place when the ConfigMap changes.
 */
import { mkdir } from 'node:fs/promises';
import type { ConfigMap, KeyToPath, Pod, Volume } from 'kubernetes-types/core/v1.js';
import { isNotFound } from '../../client/interface.js';
import { refs } from '../../client/informer.js';
import { writeAtomic, type Payload } from './atomic-writer.js';
import { podUid, type ReadyVolume, type VolumeHost, type VolumePlugin } from './volume-plugin.js';

/** The mode of projected files when a volume names none (the API's default, 0644). */
export const defaultFileMode = 0o644;

/** The ConfigMap, or undefined when it does not exist. */
export async function getConfigMap(host: VolumeHost, namespace: string, name: string): Promise<ConfigMap | undefined> {
  try {
    return (await host.client.get(refs.configmaps, namespace, name)) as ConfigMap;
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw e;
  }
}

/** The kubelet's wording (its watch-based object cache names the resource in the singular). */
export function configMapNotFound(name: string): Error {
  return new Error(`configmap "${name}" not found`);
}

/** The files of a configMap volume or projection (Kubernetes' configmap.MakePayload). */
export function configMapPayload(items: KeyToPath[] | undefined, cm: ConfigMap, defaultMode: number | undefined, optional: boolean): Payload {
  const mode = defaultMode ?? defaultFileMode;
  const payload: Payload = new Map();
  const data = cm.data ?? {};
  const binary = cm.binaryData ?? {};
  if (!items?.length) {
    for (const [k, v] of Object.entries(data)) payload.set(k, { data: Buffer.from(v, 'utf8'), mode });
    for (const [k, v] of Object.entries(binary)) payload.set(k, { data: Buffer.from(v, 'base64'), mode });
    return payload;
  }
  for (const item of items) {
    let content: Buffer;
    if (Object.hasOwn(data, item.key)) content = Buffer.from(data[item.key] ?? '', 'utf8');
    else if (Object.hasOwn(binary, item.key)) content = Buffer.from(binary[item.key] ?? '', 'base64');
    else if (optional) continue;
    else throw new Error(`configmap references non-existent config key: ${item.key}`);
    payload.set(item.path, { data: content, mode: item.mode ?? mode });
  }
  return payload;
}

export class ConfigMapPlugin implements VolumePlugin {
  readonly name = 'kubernetes.io~configmap';

  handles(volume: Volume): boolean {
    return !!volume.configMap;
  }

  async setUp(pod: Pod, volume: Volume, host: VolumeHost): Promise<ReadyVolume> {
    const source = volume.configMap ?? {};
    const name = source.name ?? '';
    const optional = source.optional === true;
    const cm = (await getConfigMap(host, pod.metadata?.namespace ?? '', name)) ?? (optional ? {} : undefined);
    if (!cm) throw configMapNotFound(name);
    const payload = configMapPayload(source.items, cm, source.defaultMode, optional);
    const dir = host.volumeDir(podUid(pod), this.name, volume.name);
    await mkdir(dir, { recursive: true });
    await writeAtomic(dir, payload, host.clock.now());
    return { hostPath: dir, readOnly: true, selinuxRelabel: true, projected: true };
  }
}
