/**
 * downwardAPI: the pod's own fields (name, namespace, uid, labels, annotations) and its containers'
 * resources as files, on a tmpfs, rewritten by `refresh` when labels or annotations change.
 */
import type { Container, DownwardAPIVolumeFile, Pod, ResourceFieldSelector, Volume } from 'kubernetes-types/core/v1.js';
import { Quantity } from '../../machinery/quantity.js';
import { writeAtomic, type Payload } from './atomic-writer.js';
import { defaultFileMode } from './config-map.js';
import { ensureMemoryDir } from './empty-dir.js';
import { podUid, type ReadyVolume, type VolumeHost, type VolumePlugin } from './volume-plugin.js';

/** Go's `%q` for the printable strings labels and annotations hold. */
function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const code = ch.codePointAt(0) ?? 0;
    if (ch === '"' || ch === '\\') out += '\\' + ch;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\r') out += '\\r';
    else if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return out + '"';
}

/** `k="v"` lines sorted by key, no trailing newline (Kubernetes' fieldpath.FormatMap). */
export function formatMap(m: Record<string, string> | undefined): string {
  return Object.keys(m ?? {})
    .sort()
    .map((k) => `${k}=${goQuote((m ?? {})[k] ?? '')}`)
    .join('\n');
}

/** Kubernetes' fieldpath.ExtractFieldPathAsString for the pod fields a volume may project. */
export function podFieldValue(pod: Pod, fieldPath: string): string {
  const meta = pod.metadata ?? {};
  const subscript = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(fieldPath);
  if (subscript) {
    const map = subscript[1] === 'labels' ? meta.labels : meta.annotations;
    return map?.[subscript[2] ?? ''] ?? '';
  }
  switch (fieldPath) {
    case 'metadata.name':
      return meta.name ?? '';
    case 'metadata.namespace':
      return meta.namespace ?? '';
    case 'metadata.uid':
      return meta.uid ?? '';
    case 'metadata.labels':
      return formatMap(meta.labels);
    case 'metadata.annotations':
      return formatMap(meta.annotations);
    default:
      throw new Error(`unsupported fieldPath: ${fieldPath}`);
  }
}

function ceilDiv(a: bigint, b: bigint): bigint {
  if (b === 0n) return 0n;
  const q = a / b;
  return a % b === 0n || (a < 0n) !== (b < 0n) ? q : q + 1n;
}

/**
 * A container's resource as the downward API writes it: cpu in units of the divisor rounded up
 * (from millicores), memory and storage in units of the divisor rounded up; a limit the container
 * leaves unset is the node's allocatable.
 */
export function containerResourceValue(sel: ResourceFieldSelector, container: Container, allocatable: Record<string, string>): string {
  const resource = sel.resource;
  const [kind, name] = resource.split(/\.(.*)/s) as [string, string | undefined];
  if ((kind !== 'limits' && kind !== 'requests') || !name) throw new Error(`unsupported container resource : ${resource}`);
  const divisorQ = sel.divisor !== undefined && !Quantity.parse(sel.divisor).isZero() ? Quantity.parse(sel.divisor) : Quantity.parse('1');
  const set = kind === 'limits' ? container.resources?.limits : container.resources?.requests;
  let raw = set?.[name];
  if (raw === undefined && kind === 'limits') raw = allocatable[name];
  const q = Quantity.parse(raw ?? '0');
  if (name === 'cpu') return String(ceilDiv(q.milliValue(), divisorQ.milliValue()));
  if (name === 'memory' || name === 'ephemeral-storage' || name.startsWith('hugepages-')) return String(ceilDiv(q.value(), divisorQ.value()));
  throw new Error(`unsupported container resource : ${resource}`);
}

function findContainer(pod: Pod, name: string | undefined): Container | undefined {
  return [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])].find((c) => c.name === name);
}

/** The files of a downwardAPI volume or projection (Kubernetes' downwardapi.CollectData). */
export async function downwardPayload(items: DownwardAPIVolumeFile[] | undefined, pod: Pod, defaultMode: number | undefined, host: VolumeHost): Promise<Payload> {
  const payload: Payload = new Map();
  const errors: string[] = [];
  for (const item of items ?? []) {
    const mode = item.mode ?? defaultMode ?? defaultFileMode;
    try {
      if (item.fieldRef) {
        payload.set(item.path, { data: Buffer.from(podFieldValue(pod, item.fieldRef.fieldPath), 'utf8'), mode });
      } else if (item.resourceFieldRef) {
        const container = findContainer(pod, item.resourceFieldRef.containerName);
        if (!container) throw new Error(`container ${item.resourceFieldRef.containerName ?? ''} not found`);
        const resource = item.resourceFieldRef.resource;
        const needsNode = resource.startsWith('limits.') && container.resources?.limits?.[resource.slice('limits.'.length)] === undefined;
        const allocatable = needsNode ? await host.nodeAllocatable() : {};
        payload.set(item.path, { data: Buffer.from(containerResourceValue(item.resourceFieldRef, container, allocatable), 'utf8'), mode });
      }
    } catch (e) {
      errors.push((e as Error).message);
    }
  }
  if (errors.length === 1) throw new Error(errors[0]);
  if (errors.length > 1) throw new Error(`[${errors.join(', ')}]`);
  return payload;
}

export class DownwardApiPlugin implements VolumePlugin {
  readonly name = 'kubernetes.io~downward-api';

  handles(volume: Volume): boolean {
    return !!volume.downwardAPI;
  }

  async setUp(pod: Pod, volume: Volume, host: VolumeHost): Promise<ReadyVolume> {
    const source = volume.downwardAPI ?? {};
    const payload = await downwardPayload(source.items, pod, source.defaultMode, host);
    const dir = host.volumeDir(podUid(pod), this.name, volume.name);
    await ensureMemoryDir(dir, host);
    await writeAtomic(dir, payload, host.clock.now());
    return { hostPath: dir, readOnly: true, selinuxRelabel: true, projected: true };
  }
}
