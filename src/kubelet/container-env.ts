/**
 * A container's environment as the kubelet builds it (`makeEnvironmentVariables`): the
 * Docker-link service variables, `envFrom`, then `env` with `$(VAR)` references expanded and
 * `valueFrom` sources resolved. A missing required ConfigMap, Secret or key is a
 * `ContainerConfigError` whose message is the one Kubernetes shows with CreateContainerConfigError.
 */
import type { ConfigMap, Container, EnvVar, ObjectFieldSelector, Pod, ResourceFieldSelector, Secret, Service } from 'kubernetes-types/core/v1.js';
import { Quantity } from '../machinery/quantity.js';

/** Where the kubelet reads the objects a container's environment refers to; called once per object per container start. */
export interface EnvSources {
  configMap(namespace: string, name: string): Promise<ConfigMap | undefined>;
  secret(namespace: string, name: string): Promise<Secret | undefined>;
  /** Services of the pod's namespace (and of `default` for the kubernetes service), for the *_SERVICE_HOST variables. */
  services(namespace: string): Promise<Service[]>;
}

/** What the environment may refer to besides the pod: its IPs and the node's. */
export interface EnvContext {
  pod: Pod;
  podIPs: string[];
  hostIP: string;
  nodeName: string;
  /** Limits a container leaves unset default to these (as `defaultPodLimitsForDownwardAPI` does). */
  nodeAllocatable: { cpu: string; memory: string; 'ephemeral-storage'?: string };
}

/** The container cannot be configured yet (reason CreateContainerConfigError); the message is Kubernetes'. */
export class ContainerConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ContainerConfigError';
  }
}

/** The variables of the Services a pod in `namespace` sees (pkg/kubelet/envvars). */
export function serviceEnvVars(services: Service[]): Array<{ key: string; value: string }> {
  const out: Array<{ key: string; value: string }> = [];
  for (const svc of services) {
    const ip = svc.spec?.clusterIP;
    const ports = svc.spec?.ports ?? [];
    if (!ip || ip === 'None' || ports.length === 0) continue;
    const prefix = envVarName(svc.metadata?.name ?? '');
    out.push({ key: `${prefix}_SERVICE_HOST`, value: ip });
    out.push({ key: `${prefix}_SERVICE_PORT`, value: String(ports[0]!.port) });
    for (const p of ports) {
      if (p.name) out.push({ key: `${prefix}_SERVICE_PORT_${envVarName(p.name)}`, value: String(p.port) });
    }
    // Docker link variables.
    ports.forEach((p, i) => {
      const proto = (p.protocol ?? 'TCP').toLowerCase();
      const url = `${proto}://${ip.includes(':') ? `[${ip}]` : ip}:${p.port}`;
      if (i === 0) out.push({ key: `${prefix}_PORT`, value: url });
      const pp = `${prefix}_PORT_${p.port}_${proto.toUpperCase()}`;
      out.push({ key: pp, value: url }, { key: `${pp}_PROTO`, value: proto }, { key: `${pp}_PORT`, value: String(p.port) }, { key: `${pp}_ADDR`, value: ip });
    });
  }
  return out;
}

function envVarName(name: string): string {
  return name.replace(/-/g, '_').toUpperCase();
}

/**
 * Expands `$(VAR)` references (third_party/forked/golang/expansion): `$$` is a literal `$`, an
 * unknown or unterminated reference stays as written.
 */
export function expandEnvRefs(input: string, lookup: (name: string) => string | undefined): string {
  let out = '';
  let checkpoint = 0;
  for (let cursor = 0; cursor < input.length; cursor++) {
    if (input[cursor] !== '$' || cursor + 1 >= input.length) continue;
    out += input.slice(checkpoint, cursor);
    const next = input[cursor + 1];
    let advance = 1;
    if (next === '$') {
      out += '$';
    } else if (next === '(') {
      const close = input.indexOf(')', cursor + 2);
      if (close < 0) {
        out += '$(';
      } else {
        const name = input.slice(cursor + 2, close);
        out += lookup(name) ?? `$(${name})`;
        advance = close - cursor;
      }
    } else {
      out += `$${next ?? ''}`;
    }
    cursor += advance;
    checkpoint = cursor + 1;
  }
  return out + input.slice(checkpoint);
}

export async function containerEnv(ctx: EnvContext, container: Container, sources: EnvSources): Promise<Array<{ key: string; value: string }>> {
  const { pod } = ctx;
  const ns = pod.metadata?.namespace ?? 'default';
  const serviceEnv = new Map((await serviceEnvFor(pod, ns, sources)).map((e) => [e.key, e.value]));

  const configMaps = new Map<string, ConfigMap>();
  const secrets = new Map<string, Secret>();
  const getConfigMap = async (name: string, optional: boolean): Promise<ConfigMap | undefined> => {
    const cached = configMaps.get(name);
    if (cached) return cached;
    const cm = await sources.configMap(ns, name);
    if (!cm) {
      if (optional) return undefined;
      throw new ContainerConfigError(`configmap "${name}" not found`);
    }
    configMaps.set(name, cm);
    return cm;
  };
  const getSecret = async (name: string, optional: boolean): Promise<Secret | undefined> => {
    const cached = secrets.get(name);
    if (cached) return cached;
    const s = await sources.secret(ns, name);
    if (!s) {
      if (optional) return undefined;
      throw new ContainerConfigError(`secret "${name}" not found`);
    }
    secrets.set(name, s);
    return s;
  };

  // envFrom first; env then overrides it. A Map keeps first-insertion order for stable output.
  const own = new Map<string, string>();
  for (const from of container.envFrom ?? []) {
    const prefix = from.prefix ?? '';
    if (from.configMapRef) {
      const cm = await getConfigMap(from.configMapRef.name ?? '', from.configMapRef.optional === true);
      for (const [k, v] of Object.entries(cm?.data ?? {})) own.set(prefix + k, v);
    } else if (from.secretRef) {
      const s = await getSecret(from.secretRef.name ?? '', from.secretRef.optional === true);
      for (const [k, v] of Object.entries(s?.data ?? {})) own.set(prefix + k, decodeSecretValue(v));
    }
  }

  const lookup = (name: string): string | undefined => own.get(name) ?? serviceEnv.get(name);
  for (const env of container.env ?? []) {
    const value = await envValue(ctx, container, env, lookup, getConfigMap, getSecret, ns);
    if (value === undefined) continue;
    own.set(env.name, value);
  }

  const result: Array<{ key: string; value: string }> = [];
  for (const [key, value] of serviceEnv) if (!own.has(key)) result.push({ key, value });
  for (const [key, value] of own) result.push({ key, value });
  return result;
}

/** The service variables this pod gets: default/kubernetes always, its namespace's services unless enableServiceLinks is false. */
async function serviceEnvFor(pod: Pod, ns: string, sources: EnvSources): Promise<Array<{ key: string; value: string }>> {
  const links = pod.spec?.enableServiceLinks !== false;
  const chosen = new Map<string, Service>();
  const all = [...(await sources.services(ns))].sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''));
  for (const svc of all) {
    const name = svc.metadata?.name ?? '';
    const svcNs = svc.metadata?.namespace ?? ns;
    // The namespace's own service of the same name wins over default/kubernetes.
    if (svcNs === 'default' && name === 'kubernetes') {
      if (!chosen.has(name)) chosen.set(name, svc);
    } else if (svcNs === ns && links) {
      chosen.set(name, svc);
    }
  }
  return serviceEnvVars([...chosen.values()]);
}

function decodeSecretValue(v: string): string {
  return Buffer.from(v, 'base64').toString('utf8');
}

async function envValue(
  ctx: EnvContext,
  container: Container,
  env: EnvVar,
  lookup: (name: string) => string | undefined,
  getConfigMap: (name: string, optional: boolean) => Promise<ConfigMap | undefined>,
  getSecret: (name: string, optional: boolean) => Promise<Secret | undefined>,
  ns: string,
): Promise<string | undefined> {
  if (env.value) return expandEnvRefs(env.value, lookup);
  const from = env.valueFrom;
  if (!from) return '';
  if (from.fieldRef) return fieldRefValue(ctx, from.fieldRef);
  if (from.resourceFieldRef) return resourceFieldRefValue(ctx, container, from.resourceFieldRef);
  if (from.configMapKeyRef) {
    const { name = '', key, optional = false } = from.configMapKeyRef;
    const cm = await getConfigMap(name, optional);
    if (!cm) return undefined;
    const v = cm.data?.[key];
    if (v === undefined) {
      if (optional) return undefined;
      throw new ContainerConfigError(`couldn't find key ${key} in ConfigMap ${ns}/${name}`);
    }
    return v;
  }
  if (from.secretKeyRef) {
    const { name = '', key, optional = false } = from.secretKeyRef;
    const s = await getSecret(name, optional);
    if (!s) return undefined;
    const v = s.data?.[key];
    if (v === undefined) {
      if (optional) return undefined;
      throw new ContainerConfigError(`couldn't find key ${key} in Secret ${ns}/${name}`);
    }
    return decodeSecretValue(v);
  }
  return '';
}

/** `podFieldSelectorRuntimeValue` + `fieldpath.ExtractFieldPathAsString`. */
export function fieldRefValue(ctx: Pick<EnvContext, 'pod' | 'podIPs' | 'hostIP'>, ref: ObjectFieldSelector): string {
  const { pod } = ctx;
  const path = ref.fieldPath;
  if (ref.apiVersion && ref.apiVersion !== 'v1') throw new ContainerConfigError(`unsupported pod version: ${ref.apiVersion}`);
  switch (path) {
    case 'spec.nodeName':
      return pod.spec?.nodeName ?? '';
    case 'spec.serviceAccountName':
      return pod.spec?.serviceAccountName ?? '';
    case 'status.hostIP':
      return ctx.hostIP;
    case 'status.hostIPs':
      return ctx.hostIP;
    case 'status.podIP':
      return ctx.podIPs[0] ?? '';
    case 'status.podIPs':
      return ctx.podIPs.join(',');
    case 'spec.terminationGracePeriodSeconds':
      return String(pod.spec?.terminationGracePeriodSeconds ?? 30);
    case 'metadata.name':
      return pod.metadata?.name ?? '';
    case 'metadata.namespace':
      return pod.metadata?.namespace ?? '';
    case 'metadata.uid':
      return pod.metadata?.uid ?? '';
    case 'metadata.labels':
      return formatMap(pod.metadata?.labels ?? {});
    case 'metadata.annotations':
      return formatMap(pod.metadata?.annotations ?? {});
  }
  const sub = /^(metadata\.(?:labels|annotations))\['(.*)'\]$/.exec(path);
  if (sub) {
    const map = sub[1] === 'metadata.labels' ? pod.metadata?.labels : pod.metadata?.annotations;
    return map?.[sub[2]!] ?? '';
  }
  throw new ContainerConfigError(`unsupported fieldPath: ${path}`);
}

/** `fieldpath.FormatMap`: sorted `key="value"` lines. */
function formatMap(m: Record<string, string>): string {
  return Object.keys(m)
    .sort()
    .map((k) => `${k}=${JSON.stringify(m[k])}`)
    .join('\n');
}

type ResourceList = Record<string, string | number>;

/** `containerResourceRuntimeValue` on the pod with unset limits defaulted to node allocatable. */
export function resourceFieldRefValue(ctx: Pick<EnvContext, 'pod' | 'nodeAllocatable'>, container: Container, ref: ResourceFieldSelector): string {
  let target: Container | undefined = container;
  if (ref.containerName) {
    target = [...(ctx.pod.spec?.containers ?? []), ...(ctx.pod.spec?.initContainers ?? [])].find((c) => c.name === ref.containerName);
    if (!target) throw new ContainerConfigError(`container ${ref.containerName} not found`);
  }
  const limits: ResourceList = { ...((target.resources?.limits ?? {}) as ResourceList) };
  for (const [k, v] of Object.entries(ctx.nodeAllocatable)) {
    if (v !== undefined && limits[k] === undefined) limits[k] = v;
  }
  const requests = (target.resources?.requests ?? {}) as ResourceList;
  const divisorText = ref.divisor as string | number | undefined;
  let divisor = divisorText === undefined || divisorText === '' ? Quantity.parse('1') : Quantity.parse(divisorText);
  if (divisor.isZero()) divisor = Quantity.parse('1');
  const dot = ref.resource.indexOf('.');
  const kind = ref.resource.slice(0, dot);
  const name = ref.resource.slice(dot + 1);
  const list = kind === 'limits' ? limits : kind === 'requests' ? requests : undefined;
  const supported = name === 'cpu' || name === 'memory' || name === 'ephemeral-storage' || name.startsWith('hugepages-');
  if (!list || !supported) throw new ContainerConfigError(`unsupported container resource : ${ref.resource}`);
  const raw = list[name];
  const amount = raw === undefined ? Quantity.zero() : Quantity.parse(raw);
  // Whole units of the divisor, rounded up: cpu in millicores, the rest in units.
  const [num, den] = name === 'cpu' ? [amount.milliValue(), divisor.milliValue()] : [amount.value(), divisor.value()];
  return String(ceilDiv(num, den === 0n ? 1n : den));
}

function ceilDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a > 0n === b > 0n ? q + 1n : q;
}
