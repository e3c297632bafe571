/**
 * PodSpec → CRI messages, as the kubelet's kuberuntime builds them: the PodSandboxConfig
 * (`generatePodSandboxConfig`) and each container's ContainerConfig (`generateContainerConfig`):
 * command/args with `$(VAR)` expansion, resources as cgroup shares/quota/memory limit, the OOM
 * score by QoS class, and the effective security context. Plain objects in the camelCase shape
 * `CriClient` sends (enums as their names, int64 as strings).
 */
import { existsSync, readFileSync } from 'node:fs';
import { totalmem } from 'node:os';
import type { Container, Pod, SeccompProfile, SecurityContext, SELinuxOptions } from 'kubernetes-types/core/v1.js';
import { Quantity } from '../machinery/quantity.js';
import { podQOSClass, type QOSClass } from '../machinery/pod-qos.js';
import { ContainerConfigError, expandEnvRefs } from './container-env.js';

/** A bind mount for a container, as the volume manager resolves it. */
export interface CriMount {
  containerPath: string;
  hostPath: string;
  readonly?: boolean;
  /** `None`/`HostToContainer`/`Bidirectional` (Kubernetes' names) or the CRI's `PROPAGATION_*`. */
  propagation?: string;
  selinuxRelabel?: boolean;
}

export type { QOSClass } from '../machinery/pod-qos.js';

/** Labels the kubelet puts on sandboxes and containers (as Kubernetes' kuberuntime does); it finds them again by these. */
export const labels = {
  podName: 'io.kubernetes.pod.name',
  podNamespace: 'io.kubernetes.pod.namespace',
  podUid: 'io.kubernetes.pod.uid',
  containerName: 'io.kubernetes.container.name',
} as const;

type ResourceList = Record<string, string | number>;

const minShares = 2n;
const maxShares = 262144n;
const quotaPeriod = 100000n;
const minQuota = 1000n;
const guaranteedOOMScoreAdj = -998;
const besteffortOOMScoreAdj = 1000;

/** The paths runtimes hide from containers unless procMount is Unmasked (pkg/securitycontext). */
export const defaultMaskedPaths = ['/proc/asound', '/proc/acpi', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list', '/proc/timer_stats', '/proc/sched_debug', '/proc/scsi', '/sys/firmware', '/sys/devices/virtual/powercap'];
export const defaultReadonlyPaths = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

function qty(v: string | number | undefined): Quantity | undefined {
  if (v === undefined || v === '') return undefined;
  return Quantity.tryParse(v);
}

function list(c: Container, kind: 'requests' | 'limits'): ResourceList {
  return (c.resources?.[kind] ?? {}) as ResourceList;
}

/**
 * The pod's QoS class (`qos.GetPodQOS`): BestEffort without any cpu/memory request or limit,
 * Guaranteed when every container limits both and requests equal limits, else Burstable. The
 * class the API server recorded in status wins, as the kubelet reads it.
 */
export function qosClass(pod: Pod): QOSClass {
  const recorded = pod.status?.qosClass;
  if (recorded === 'Guaranteed' || recorded === 'Burstable' || recorded === 'BestEffort') return recorded;
  return podQOSClass(pod.spec);
}

/** The pod's cgroup as the kubelet's cgroupfs driver names it. */
export function podCgroupParent(pod: Pod): string {
  const uid = pod.metadata?.uid ?? '';
  const qos = qosClass(pod);
  return qos === 'Guaranteed' ? `/kubepods/pod${uid}` : `/kubepods/${qos.toLowerCase()}/pod${uid}`;
}

/** `MilliCPUToShares`. */
export function milliCPUToShares(milli: bigint): bigint {
  if (milli === 0n) return minShares;
  const shares = (milli * 1024n) / 1000n;
  return shares < minShares ? minShares : shares > maxShares ? maxShares : shares;
}

/** `milliCPUToQuota` over the default 100 ms period. */
export function milliCPUToQuota(milli: bigint): bigint {
  if (milli === 0n) return 0n;
  const quota = (milli * quotaPeriod) / 1000n;
  return quota < minQuota ? minQuota : quota;
}

/** `calculateLinuxResources`: a cpu request left unset takes the limit (the API server's default). */
function linuxResources(cpuRequest: Quantity | undefined, cpuLimit: Quantity | undefined, memoryLimit: Quantity | undefined): Record<string, unknown> {
  const limitMilli = cpuLimit?.milliValue() ?? 0n;
  const shares = cpuRequest === undefined && limitMilli !== 0n ? milliCPUToShares(limitMilli) : milliCPUToShares(cpuRequest?.milliValue() ?? 0n);
  const out: Record<string, unknown> = { cpuShares: String(shares), cpuPeriod: String(quotaPeriod), cpuQuota: String(milliCPUToQuota(limitMilli)) };
  const mem = memoryLimit?.value() ?? 0n;
  if (mem !== 0n) out['memoryLimitInBytes'] = String(mem);
  return out;
}

/** `GetContainerOOMScoreAdjust`. */
export function oomScoreAdj(pod: Pod, container: Container, memoryCapacity: bigint): number {
  const qos = qosClass(pod);
  if (qos === 'Guaranteed') return guaranteedOOMScoreAdj;
  if (qos === 'BestEffort') return besteffortOOMScoreAdj;
  const request = qty(list(container, 'requests')['memory'])?.value() ?? 0n;
  const adj = memoryCapacity > 0n ? Number(1000n - (1000n * request) / memoryCapacity) : 1000;
  if (adj < 1000 + guaranteedOOMScoreAdj) return 1000 + guaranteedOOMScoreAdj;
  if (adj === besteffortOOMScoreAdj) return adj - 1;
  return adj;
}

type SwapMode = 'cgroup1' | 'cgroup2' | 'none';
let swapMode: SwapMode | undefined;

/** Whether this machine's cgroups account swap (`swapControllerAvailable`), checked once. */
function detectSwapMode(): SwapMode {
  if (swapMode) return swapMode;
  swapMode = 'none';
  try {
    if (existsSync('/sys/fs/cgroup/cgroup.controllers')) {
      const self = /^0::(.*)$/m.exec(readFileSync('/proc/self/cgroup', 'utf8'))?.[1] ?? '/';
      if (existsSync(`/sys/fs/cgroup${self === '/' ? '' : self}/memory.swap.max`)) swapMode = 'cgroup2';
    } else if (existsSync('/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes')) {
      swapMode = 'cgroup1';
    }
  } catch {
    swapMode = 'none';
  }
  return swapMode;
}

/** `generateLinuxContainerResources`: shares, quota, memory limit, OOM score, no swap (NodeSwap off). */
export function containerResources(pod: Pod, container: Container, memoryCapacity: bigint): Record<string, unknown> {
  const req = list(container, 'requests');
  const lim = list(container, 'limits');
  const res = linuxResources(req['cpu'] !== undefined ? qty(req['cpu']) ?? Quantity.zero() : undefined, qty(lim['cpu']), qty(lim['memory']));
  res['oomScoreAdj'] = String(oomScoreAdj(pod, container, memoryCapacity));
  const huge = Object.entries(lim)
    .filter(([k]) => k.startsWith('hugepages-'))
    .map(([k, v]) => ({ pageSize: hugePageSize(k.slice('hugepages-'.length)), limit: String(qty(v)?.value() ?? 0n) }));
  if (huge.length) res['hugepageLimits'] = huge;
  // Without swap the memory limit is a hard limit, so exceeding it OOM-kills instead of swapping.
  const swap = detectSwapMode();
  if (swap === 'cgroup2') res['unified'] = { 'memory.swap.max': '0' };
  else if (swap === 'cgroup1' && res['memoryLimitInBytes'] !== undefined) res['memorySwapLimitInBytes'] = res['memoryLimitInBytes'];
  return res;
}

/** `2Mi` → `2MB`, the page-size spelling runc's hugetlb controller uses. */
function hugePageSize(size: string): string {
  const bytes = qty(size)?.value() ?? 0n;
  const units: Array<[string, bigint]> = [['GB', 1n << 30n], ['MB', 1n << 20n], ['KB', 1n << 10n]];
  for (const [u, n] of units) if (bytes >= n && bytes % n === 0n) return `${bytes / n}${u}`;
  return `${bytes}B`;
}

/** Sum of a resource over containers and sidecars, at least the largest init container (`PodRequests`/`PodLimits`). */
function podTotal(pod: Pod, kind: 'requests' | 'limits', name: string): Quantity | undefined {
  let total: Quantity | undefined;
  const plus = (a: Quantity | undefined, b: Quantity | undefined): Quantity | undefined => (a && b ? a.add(b) : a ?? b);
  for (const c of pod.spec?.containers ?? []) total = plus(total, qty(list(c, kind)[name]));
  let sidecars: Quantity | undefined;
  let initMax: Quantity | undefined;
  for (const c of pod.spec?.initContainers ?? []) {
    const own = qty(list(c, kind)[name]);
    let effective: Quantity | undefined;
    if (c.restartPolicy === 'Always') {
      total = plus(total, own);
      sidecars = plus(sidecars, own);
      effective = sidecars;
    } else {
      effective = plus(own, sidecars);
    }
    if (effective && (!initMax || effective.cmp(initMax) > 0)) initMax = effective;
  }
  if (initMax && (!total || initMax.cmp(total) > 0)) total = initMax;
  return total;
}

function namespaceOptions(pod: Pod): Record<string, string> {
  const spec = pod.spec;
  return {
    network: spec?.hostNetwork ? 'NODE' : 'POD',
    pid: spec?.hostPID ? 'NODE' : spec?.shareProcessNamespace ? 'POD' : 'CONTAINER',
    ipc: spec?.hostIPC ? 'NODE' : 'POD',
  };
}

function selinux(o: SELinuxOptions | undefined): Record<string, string> | undefined {
  return o ? { user: o.user ?? '', role: o.role ?? '', type: o.type ?? '', level: o.level ?? '' } : undefined;
}

function seccomp(p: SeccompProfile | undefined): Record<string, string> | undefined {
  if (!p) return undefined;
  if (p.type === 'RuntimeDefault') return { profileType: 'RuntimeDefault' };
  if (p.type === 'Localhost') return { profileType: 'Localhost', localhostRef: p.localhostProfile ?? '' };
  return { profileType: 'Unconfined' };
}

function supplementalGroups(pod: Pod): string[] {
  const sc = pod.spec?.securityContext;
  const groups: string[] = [];
  if (sc?.fsGroup !== undefined) groups.push(String(sc.fsGroup));
  for (const g of sc?.supplementalGroups ?? []) groups.push(String(g));
  return groups;
}

/** The kubelet's hostname for the pod: spec.hostname or the name, cut to 63 characters; the FQDN with setHostnameAsFQDN. */
export function podHostname(pod: Pod, clusterDomain = 'cluster.local'): string {
  let hostname = pod.spec?.hostname || pod.metadata?.name || '';
  if (hostname.length > 63) hostname = hostname.slice(0, 63).replace(/[-.]+$/, '');
  const sub = pod.spec?.subdomain;
  if (pod.spec?.setHostnameAsFQDN && sub) {
    const fqdn = `${hostname}.${sub}.${pod.metadata?.namespace ?? 'default'}.svc.${clusterDomain}`;
    if (fqdn.length > 64) throw new ContainerConfigError(`failed to construct FQDN from pod hostname and cluster domain, FQDN ${fqdn} is too long (64 characters is the max, ${fqdn.length} characters requested)`);
    return fqdn;
  }
  return hostname;
}

export function podSandboxConfig(
  pod: Pod,
  opts: { attempt: number; logDirectory: string; dns?: { servers: string[]; searches: string[]; options: string[] }; clusterDomain?: string },
): Record<string, unknown> {
  const meta = pod.metadata ?? {};
  const spec = pod.spec;
  const sc = spec?.securityContext;
  const portMappings: Array<Record<string, unknown>> = [];
  for (const c of spec?.containers ?? []) {
    const seen = new Set<string>();
    for (const p of c.ports ?? []) {
      const family = !p.hostIP ? 'any' : p.hostIP.includes(':') ? 'v6' : 'v4';
      const name = p.name || `${family}-${p.protocol ?? 'TCP'}-${p.hostIP ?? ''}:${p.containerPort}:${p.hostPort ?? 0}`;
      if (seen.has(name)) continue;
      seen.add(name);
      portMappings.push({ protocol: p.protocol ?? 'TCP', containerPort: p.containerPort, hostPort: p.hostPort ?? 0, hostIp: p.hostIP ?? '' });
    }
  }
  const securityContext: Record<string, unknown> = {
    namespaceOptions: namespaceOptions(pod),
    privileged: [...(spec?.initContainers ?? []), ...(spec?.containers ?? [])].some((c) => c.securityContext?.privileged === true),
    // The pause process runs under the runtime's default profile whatever the containers use.
    seccomp: { profileType: 'RuntimeDefault' },
    supplementalGroups: supplementalGroups(pod),
  };
  if (sc?.runAsUser !== undefined) securityContext['runAsUser'] = { value: String(sc.runAsUser) };
  if (sc?.runAsGroup !== undefined) securityContext['runAsGroup'] = { value: String(sc.runAsGroup) };
  const se = selinux(sc?.seLinuxOptions);
  if (se) securityContext['selinuxOptions'] = se;
  const cpuRequest = podTotal(pod, 'requests', 'cpu');
  const overhead = (spec?.overhead ?? {}) as ResourceList;
  const overheadCpu = qty(overhead['cpu']);
  const config: Record<string, unknown> = {
    metadata: { name: meta.name ?? '', uid: meta.uid ?? '', namespace: meta.namespace ?? '', attempt: opts.attempt },
    // A hostNetwork pod shares the node's UTS namespace and so its hostname already; containerd
    // 1.6 would still write the name into the spec, which runc refuses without a UTS namespace.
    hostname: spec?.hostNetwork ? '' : podHostname(pod, opts.clusterDomain),
    logDirectory: opts.logDirectory,
    labels: { ...(meta.labels ?? {}), [labels.podName]: meta.name ?? '', [labels.podNamespace]: meta.namespace ?? '', [labels.podUid]: meta.uid ?? '' },
    annotations: { ...(meta.annotations ?? {}) },
    linux: {
      cgroupParent: podCgroupParent(pod),
      securityContext,
      sysctls: Object.fromEntries((sc?.sysctls ?? []).map((s) => [s.name, s.value])),
      resources: linuxResources(cpuRequest, podTotal(pod, 'limits', 'cpu'), podTotal(pod, 'limits', 'memory')),
      overhead: spec?.overhead ? linuxResources(overheadCpu ?? Quantity.zero(), overheadCpu, qty(overhead['memory'])) : {},
    },
  };
  if (opts.dns) config['dnsConfig'] = { servers: opts.dns.servers, searches: opts.dns.searches, options: opts.dns.options };
  if (portMappings.length) config['portMappings'] = portMappings;
  return config;
}

/** `DetermineEffectiveSecurityContext`: the container's settings over the pod's defaults. */
export function effectiveSecurityContext(pod: Pod, container: Container): SecurityContext {
  const psc = pod.spec?.securityContext;
  const eff: SecurityContext = { ...(container.securityContext ?? {}) };
  if (psc) {
    if (eff.seLinuxOptions === undefined && psc.seLinuxOptions) eff.seLinuxOptions = psc.seLinuxOptions;
    if (eff.runAsUser === undefined && psc.runAsUser !== undefined) eff.runAsUser = psc.runAsUser;
    if (eff.runAsGroup === undefined && psc.runAsGroup !== undefined) eff.runAsGroup = psc.runAsGroup;
    if (eff.runAsNonRoot === undefined && psc.runAsNonRoot !== undefined) eff.runAsNonRoot = psc.runAsNonRoot;
    if (eff.seccompProfile === undefined && psc.seccompProfile) eff.seccompProfile = psc.seccompProfile;
    if (eff.appArmorProfile === undefined && psc.appArmorProfile) eff.appArmorProfile = psc.appArmorProfile;
  }
  return eff;
}

/** `format.Pod`: how the kubelet names a pod in messages. */
function podDesc(pod: Pod): string {
  return `${pod.metadata?.name ?? ''}_${pod.metadata?.namespace ?? ''}(${pod.metadata?.uid ?? ''})`;
}

/**
 * `verifyRunAsNonRoot`: with runAsNonRoot, the container must not run as uid 0. `imageUser` is
 * the image's user from ImageStatus (uid, or a name that cannot be checked). Throws
 * ContainerConfigError with Kubernetes' message.
 */
export function verifyRunAsNonRoot(pod: Pod, container: Container, imageUser?: { uid?: number | string; username?: string }): void {
  const sc = effectiveSecurityContext(pod, container);
  if (!sc.runAsNonRoot) return;
  const where = `(pod: "${podDesc(pod)}", container: ${container.name})`;
  if (sc.runAsUser !== undefined) {
    if (sc.runAsUser === 0) throw new ContainerConfigError(`container's runAsUser breaks non-root policy ${where}`);
    return;
  }
  if (imageUser?.uid !== undefined && imageUser.uid !== '') {
    if (Number(imageUser.uid) === 0) throw new ContainerConfigError(`container has runAsNonRoot and image will run as root ${where}`);
    return;
  }
  if (imageUser?.username) throw new ContainerConfigError(`container has runAsNonRoot and image has non-numeric user (${imageUser.username}), cannot verify user is non-root ${where}`);
  throw new ContainerConfigError(`container has runAsNonRoot and image will run as root ${where}`);
}

function containerSecurityContext(pod: Pod, container: Container): Record<string, unknown> {
  const sc = effectiveSecurityContext(pod, container);
  const out: Record<string, unknown> = {
    privileged: sc.privileged === true,
    readonlyRootfs: sc.readOnlyRootFilesystem === true,
    namespaceOptions: namespaceOptions(pod),
    supplementalGroups: supplementalGroups(pod),
    noNewPrivs: sc.allowPrivilegeEscalation === false,
    maskedPaths: sc.procMount === 'Unmasked' ? [] : defaultMaskedPaths,
    readonlyPaths: sc.procMount === 'Unmasked' ? [] : defaultReadonlyPaths,
    // The kubelet's default without SeccompDefault is Unconfined.
    seccomp: seccomp(sc.seccompProfile) ?? { profileType: 'Unconfined' },
  };
  if (sc.capabilities) out['capabilities'] = { addCapabilities: [...(sc.capabilities.add ?? [])], dropCapabilities: [...(sc.capabilities.drop ?? [])] };
  if (sc.runAsUser !== undefined) out['runAsUser'] = { value: String(sc.runAsUser) };
  if (sc.runAsGroup !== undefined) out['runAsGroup'] = { value: String(sc.runAsGroup) };
  const se = selinux(sc.seLinuxOptions);
  if (se) out['selinuxOptions'] = se;
  const aa = sc.appArmorProfile;
  if (aa) out['apparmor'] = aa.type === 'Localhost' ? { profileType: 'Localhost', localhostRef: aa.localhostProfile ?? '' } : { profileType: aa.type === 'Unconfined' ? 'Unconfined' : 'RuntimeDefault' };
  return out;
}

const propagationNames: Record<string, string> = {
  None: 'PROPAGATION_PRIVATE',
  HostToContainer: 'PROPAGATION_HOST_TO_CONTAINER',
  Bidirectional: 'PROPAGATION_BIDIRECTIONAL',
};

/** FNV-1a of the container spec: a stable digest the kubelet can compare to see a changed spec. */
export function containerHash(container: Container): string {
  let h = 0x811c9dc5;
  const text = JSON.stringify(container);
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16);
}

export function containerConfig(
  pod: Pod,
  container: Container,
  opts: { attempt: number; env: Array<{ key: string; value: string }>; mounts: CriMount[]; image: string; nodeAllocatable?: { cpu: string; memory: string } },
): Record<string, unknown> {
  const meta = pod.metadata ?? {};
  const envMap = new Map(opts.env.map((e) => [e.key, e.value]));
  const expand = (s: string): string => expandEnvRefs(s, (n) => envMap.get(n));
  const memoryCapacity = qty(opts.nodeAllocatable?.memory)?.value() ?? BigInt(totalmem());
  const annotations: Record<string, string> = {
    'io.kubernetes.container.hash': containerHash(container),
    'io.kubernetes.container.restartCount': String(opts.attempt),
    'io.kubernetes.container.terminationMessagePath': container.terminationMessagePath ?? '/dev/termination-log',
    'io.kubernetes.container.terminationMessagePolicy': container.terminationMessagePolicy ?? 'File',
  };
  if (meta.deletionGracePeriodSeconds !== undefined) annotations['io.kubernetes.pod.deletionGracePeriod'] = String(meta.deletionGracePeriodSeconds);
  if (pod.spec?.terminationGracePeriodSeconds !== undefined) annotations['io.kubernetes.pod.terminationGracePeriod'] = String(pod.spec.terminationGracePeriodSeconds);
  if (container.lifecycle?.preStop) annotations['io.kubernetes.container.preStopHandler'] = JSON.stringify(container.lifecycle.preStop);
  if (container.ports?.length) annotations['io.kubernetes.container.ports'] = JSON.stringify(container.ports);
  const config: Record<string, unknown> = {
    metadata: { name: container.name, attempt: opts.attempt },
    image: { image: opts.image, userSpecifiedImage: container.image ?? '' },
    // Kubernetes' command replaces the image's ENTRYPOINT and args its CMD; CRI names them the same way.
    command: (container.command ?? []).map(expand),
    args: (container.args ?? []).map(expand),
    workingDir: container.workingDir ?? '',
    // KeyValue.value is `bytes` in this CRI version: a string would be read as base64.
    envs: opts.env.map((e) => ({ key: e.key, value: Buffer.from(e.value, 'utf8') })),
    mounts: opts.mounts.map((m) => ({
      containerPath: m.containerPath,
      hostPath: m.hostPath,
      readonly: m.readonly === true,
      selinuxRelabel: m.selinuxRelabel === true,
      propagation: propagationNames[m.propagation ?? 'None'] ?? m.propagation ?? 'PROPAGATION_PRIVATE',
    })),
    labels: { [labels.podName]: meta.name ?? '', [labels.podNamespace]: meta.namespace ?? '', [labels.podUid]: meta.uid ?? '', [labels.containerName]: container.name },
    annotations,
    logPath: `${container.name}/${opts.attempt}.log`,
    stdin: container.stdin === true,
    stdinOnce: container.stdinOnce === true,
    tty: container.tty === true,
    linux: {
      resources: containerResources(pod, container, memoryCapacity),
      securityContext: containerSecurityContext(pod, container),
    },
  };
  return config;
}
