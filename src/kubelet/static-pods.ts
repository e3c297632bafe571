/**
 * Static pods: pod manifests in a folder (`--pod-manifest-path`, k3s's `agent/pod-manifests`)
 * that the kubelet runs itself, with or without an API server, as Kubernetes' file source does
 * (pkg/kubelet/config/file.go): the pod is named `<name>-<node>`, its UID is a hash of the
 * manifest, the node and the file, and it carries the `kubernetes.io/config.*` annotations. In
 * the API it appears as a mirror pod (`kubernetes.io/config.mirror`) owned by the Node.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { Pod } from 'kubernetes-types/core/v1.js';

export const annotations = {
  hash: 'kubernetes.io/config.hash',
  mirror: 'kubernetes.io/config.mirror',
  source: 'kubernetes.io/config.source',
  seen: 'kubernetes.io/config.seen',
} as const;

export function isMirrorPod(pod: Pod): boolean {
  return pod.metadata?.annotations?.[annotations.mirror] !== undefined;
}

export function isStaticPod(pod: Pod): boolean {
  return pod.metadata?.annotations?.[annotations.source] === 'file';
}

/** A manifest turned into the static pod the kubelet runs. */
export function staticPod(manifest: Pod, nodeName: string, file: string, seen: Date): Pod {
  const name = `${manifest.metadata?.name ?? ''}-${nodeName}`;
  const uid = createHash('md5').update(JSON.stringify(manifest)).update(`host:${nodeName}`).update(`file:${file}`).digest('hex');
  return {
    ...manifest,
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      ...manifest.metadata,
      name,
      namespace: manifest.metadata?.namespace || 'default',
      uid,
      annotations: { ...(manifest.metadata?.annotations ?? {}), [annotations.hash]: uid, [annotations.source]: 'file', [annotations.seen]: seen.toISOString() },
    },
    spec: {
      ...manifest.spec!,
      nodeName,
      restartPolicy: manifest.spec?.restartPolicy ?? 'Always',
      // Static pods tolerate every NoExecute taint: nothing may evict them.
      tolerations: [...(manifest.spec?.tolerations ?? []), { operator: 'Exists', effect: 'NoExecute' }],
    },
    status: { phase: 'Pending' },
  };
}

/** The mirror of a static pod: what the API shows for it. */
export function mirrorPod(pod: Pod, node: { name: string; uid: string }): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: pod.metadata?.name,
      namespace: pod.metadata?.namespace,
      labels: pod.metadata?.labels,
      annotations: { ...(pod.metadata?.annotations ?? {}), [annotations.mirror]: pod.metadata?.uid ?? '' },
      ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: node.name, uid: node.uid, controller: true }],
    },
    spec: pod.spec,
  };
}

/** Reads every manifest of the folder: pods by `namespace/name`, and what could not be read. */
export function readManifests(dir: string, nodeName: string, now: Date, previous: Map<string, Pod>): { pods: Map<string, Pod>; errors: string[] } {
  const pods = new Map<string, Pod>();
  const errors: string[] = [];
  if (!existsSync(dir)) return { pods, errors };
  for (const file of readdirSync(dir).sort()) {
    if (file.startsWith('.') || !/\.(ya?ml|json)$/.test(file)) continue;
    const path = join(dir, file);
    try {
      for (const doc of parseAllDocuments(readFileSync(path, 'utf8'))) {
        if (doc.errors.length) throw new Error(doc.errors[0]!.message);
        const obj = doc.toJS() as Pod | null;
        if (!obj) continue;
        if (obj.kind !== 'Pod' || !obj.metadata?.name || !obj.spec?.containers?.length) throw new Error('not a Pod with a name and containers');
        const pod = staticPod(obj, nodeName, path, now);
        const key = `${pod.metadata!.namespace}/${pod.metadata!.name}`;
        // An unchanged manifest keeps the time it was first seen.
        const before = previous.get(key);
        if (before?.metadata?.uid === pod.metadata!.uid) pod.metadata!.annotations![annotations.seen] = before?.metadata?.annotations?.[annotations.seen] ?? '';
        pods.set(key, pod);
      }
    } catch (e) {
      errors.push(`${path}: ${(e as Error).message}`);
    }
  }
  return { pods, errors };
}
