/**
 * `ValidatePodSpec` and `ValidatePodTemplateSpec` with Kubernetes' field paths and messages:
 * containers, ports, env, volume mounts, probes, resources, volumes, enums, tolerations.
 */
import type { FieldError } from '../../../../machinery/status-error.js';
import { isDNS1123Label, isDNS1123Subdomain, validateQualifiedName } from '../../../../machinery/name-validation.js';
import { validateLabels } from '../../object-meta-validation.js';
import { arrAt, duplicate, forbidden, invalid, isObj, notSupported, numAt, required, strAt, type Obj } from '../group-checks.js';
import {
  nonNegativeInt,
  notFoundError,
  portNameErrors,
  portNumErrors,
  stringMap,
  supportedPortProtocols,
  validatePortNumOrName,
  validateResourceRequirements,
  validateTolerations,
} from './core-checks.js';
import { podVolumeSources } from './pod-spec-defaults.js';

export const restartPolicies = ['Always', 'OnFailure', 'Never'] as const;
export const dnsPolicies = ['ClusterFirstWithHostNet', 'ClusterFirst', 'Default', 'None'] as const;
const pullPolicies = ['Always', 'IfNotPresent', 'Never'];
const terminationMessagePolicies = ['File', 'FallbackToLogsOnError'];

function validateVolumes(volumes: unknown[], path: string): { errs: FieldError[]; names: Set<string> } {
  const errs: FieldError[] = [];
  const names = new Set<string>();
  volumes.forEach((v, i) => {
    const f = `${path}[${i}]`;
    if (!isObj(v)) {
      errs.push(invalid(f, v, 'must be an object'));
      return;
    }
    const name = strAt(v, 'name') ?? '';
    if (!name) errs.push(required(`${f}.name`, ''));
    else for (const m of isDNS1123Label(name)) errs.push(invalid(`${f}.name`, name, m));
    if (name && names.has(name)) errs.push(duplicate(`${f}.name`, name));
    if (name) names.add(name);
    const sources = podVolumeSources.filter((k) => v[k] !== undefined && v[k] !== null);
    if (sources.length === 0) errs.push(required(f, 'must specify a volume type'));
    else if (sources.length > 1) errs.push(forbidden(`${f}.${sources[1]}`, 'may not specify more than 1 volume type'));
    const pvc = v.persistentVolumeClaim;
    if (isObj(pvc) && !strAt(pvc, 'claimName')) errs.push(required(`${f}.persistentVolumeClaim.claimName`, ''));
    for (const kind of ['secret', 'configMap'] as const) {
      const src = v[kind];
      if (!isObj(src)) continue;
      const mode = src.defaultMode;
      if (typeof mode === 'number' && (mode < 0 || mode > 0o777)) {
        errs.push(invalid(`${f}.${kind}.defaultMode`, mode, 'must be a number between 0 and 0777 (octal), both inclusive'));
      }
      if (kind === 'secret' && !strAt(src, 'secretName')) errs.push(required(`${f}.secret.secretName`, ''));
      arrAt(src, 'items').forEach((it, j) => {
        const itemPath = `${f}.${kind}.items[${j}]`;
        if (!strAt(it, 'key')) errs.push(required(`${itemPath}.key`, ''));
        const p = strAt(it, 'path') ?? '';
        if (!p) errs.push(required(`${itemPath}.path`, ''));
        else if (p.startsWith('/')) errs.push(invalid(`${itemPath}.path`, p, 'must be a relative path'));
        else if (p.split('/').includes('..')) errs.push(invalid(`${itemPath}.path`, p, "must not contain '..'"));
      });
    }
    const hp = v.hostPath;
    if (isObj(hp)) {
      if (!strAt(hp, 'path')) errs.push(required(`${f}.hostPath.path`, ''));
      const t = hp.type;
      const types = ['', 'DirectoryOrCreate', 'Directory', 'FileOrCreate', 'File', 'Socket', 'CharDevice', 'BlockDevice'];
      if (t !== undefined && !types.includes(String(t))) errs.push(notSupported(`${f}.hostPath.type`, t, types));
    }
  });
  return { errs, names };
}

function validateEnv(env: unknown[], path: string): FieldError[] {
  const errs: FieldError[] = [];
  env.forEach((e, i) => {
    const f = `${path}[${i}]`;
    const name = strAt(e, 'name') ?? '';
    if (!name) errs.push(required(`${f}.name`, ''));
    else if (!/^[\x20-\x3c\x3e-\x7e]+$/.test(name)) {
      errs.push(invalid(`${f}.name`, name, "a valid environment variable name must consist only of printable ASCII characters other than '='"));
    }
    const from = isObj(e) ? e.valueFrom : undefined;
    if (from === undefined || from === null) return;
    if (!isObj(from)) return;
    const sources = ['fieldRef', 'resourceFieldRef', 'configMapKeyRef', 'secretKeyRef'].filter((k) => from[k] !== undefined && from[k] !== null);
    if (strAt(e, 'value')) errs.push(invalid(`${f}.valueFrom`, '', 'may not be specified when `value` is not empty'));
    if (sources.length === 0) errs.push(invalid(`${f}.valueFrom`, '', 'must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`'));
    else if (sources.length > 1) errs.push(invalid(`${f}.valueFrom`, '', 'may not have more than one field specified at a time'));
    const fieldRef = from.fieldRef;
    if (isObj(fieldRef) && !strAt(fieldRef, 'fieldPath')) errs.push(required(`${f}.valueFrom.fieldRef.fieldPath`, ''));
    for (const k of ['configMapKeyRef', 'secretKeyRef'] as const) {
      const ref = from[k];
      if (isObj(ref) && !strAt(ref, 'key')) errs.push(required(`${f}.valueFrom.${k}.key`, ''));
    }
    const rf = from.resourceFieldRef;
    if (isObj(rf) && !strAt(rf, 'resource')) errs.push(required(`${f}.valueFrom.resourceFieldRef.resource`, ''));
  });
  return errs;
}

function validateProbe(probe: unknown, path: string, successMustBeOne: boolean): FieldError[] {
  if (probe === undefined || probe === null) return [];
  if (!isObj(probe)) return [invalid(path, probe, 'must be an object')];
  const errs: FieldError[] = [];
  const handlers = ['exec', 'httpGet', 'tcpSocket', 'grpc'].filter((k) => probe[k] !== undefined && probe[k] !== null);
  if (handlers.length === 0) errs.push(required(path, 'must specify a handler type'));
  else if (handlers.length > 1) errs.push(forbidden(`${path}.${handlers[1]}`, 'may not specify more than 1 handler type'));
  for (const k of ['initialDelaySeconds', 'timeoutSeconds', 'periodSeconds', 'successThreshold', 'failureThreshold', 'terminationGracePeriodSeconds']) {
    errs.push(...nonNegativeInt(probe[k], `${path}.${k}`));
  }
  const success = numAt(probe, 'successThreshold');
  if (successMustBeOne && success !== undefined && success !== 1) errs.push(invalid(`${path}.successThreshold`, success, 'must be 1'));
  const get = probe.httpGet;
  if (isObj(get)) {
    if (get.port === undefined) errs.push(required(`${path}.httpGet.port`, ''));
    else errs.push(...validatePortNumOrName(get.port, `${path}.httpGet.port`));
    const scheme = get.scheme;
    if (scheme !== undefined && scheme !== 'HTTP' && scheme !== 'HTTPS') errs.push(notSupported(`${path}.httpGet.scheme`, scheme, ['HTTP', 'HTTPS']));
  }
  const tcp = probe.tcpSocket;
  if (isObj(tcp)) errs.push(...validatePortNumOrName(tcp.port, `${path}.tcpSocket.port`));
  const exec = probe.exec;
  if (isObj(exec) && arrAt(exec, 'command').length === 0) errs.push(required(`${path}.exec.command`, ''));
  const grpc = probe.grpc;
  if (isObj(grpc)) {
    const port = numAt(grpc, 'port') ?? 0;
    for (const m of portNumErrors(port)) errs.push(invalid(`${path}.grpc.port`, port, m));
  }
  return errs;
}

interface ContainerContext {
  volumes: Set<string>;
  names: Set<string>;
  hostPorts: Set<string>;
  hostNetwork: boolean;
  init: boolean;
}

function validateContainer(c: unknown, path: string, ctx: ContainerContext): FieldError[] {
  if (!isObj(c)) return [invalid(path, c, 'must be an object')];
  const errs: FieldError[] = [];
  const name = strAt(c, 'name') ?? '';
  if (!name) errs.push(required(`${path}.name`, ''));
  else {
    for (const m of isDNS1123Label(name)) errs.push(invalid(`${path}.name`, name, m));
    if (ctx.names.has(name)) errs.push(duplicate(`${path}.name`, name));
    ctx.names.add(name);
  }
  const image = strAt(c, 'image') ?? '';
  if (!image) errs.push(required(`${path}.image`, ''));
  else if (image !== image.trim()) errs.push(invalid(`${path}.image`, image, 'must not have leading or trailing whitespace'));
  const pull = c.imagePullPolicy;
  if (pull !== undefined && !pullPolicies.includes(String(pull))) errs.push(notSupported(`${path}.imagePullPolicy`, pull, pullPolicies));
  const tmp = c.terminationMessagePolicy;
  if (tmp !== undefined && !terminationMessagePolicies.includes(String(tmp))) errs.push(notSupported(`${path}.terminationMessagePolicy`, tmp, terminationMessagePolicies));
  const restart = c.restartPolicy;
  if (restart !== undefined && restart !== null) {
    if (!ctx.init) errs.push(forbidden(`${path}.restartPolicy`, 'may not be set for non-init containers'));
    else if (restart !== 'Always') errs.push(notSupported(`${path}.restartPolicy`, restart, ['Always']));
  }
  const portNames = new Set<string>();
  arrAt(c, 'ports').forEach((p, i) => {
    const f = `${path}.ports[${i}]`;
    if (!isObj(p)) return;
    const pname = strAt(p, 'name') ?? '';
    if (pname) {
      for (const m of portNameErrors(pname)) errs.push(invalid(`${f}.name`, pname, m));
      if (portNames.has(pname)) errs.push(duplicate(`${f}.name`, pname));
      portNames.add(pname);
    }
    const cp = p.containerPort;
    if (cp === undefined || cp === 0) errs.push(required(`${f}.containerPort`, ''));
    else for (const m of portNumErrors(Number(cp))) errs.push(invalid(`${f}.containerPort`, cp, m));
    const hp = p.hostPort;
    if (hp !== undefined && hp !== 0) {
      for (const m of portNumErrors(Number(hp))) errs.push(invalid(`${f}.hostPort`, hp, m));
      if (ctx.hostNetwork && hp !== cp) errs.push(invalid(`${f}.hostPort`, hp, 'must match `containerPort` when `hostNetwork` is true'));
      const key = `${strAt(p, 'protocol') ?? ''}/${strAt(p, 'hostIP') ?? ''}/${String(hp)}`;
      if (ctx.hostPorts.has(key)) errs.push(duplicate(`${f}.hostPort`, key));
      ctx.hostPorts.add(key);
    }
    const proto = p.protocol;
    if (proto === undefined || proto === '') errs.push(required(`${f}.protocol`, ''));
    else if (!(supportedPortProtocols as readonly unknown[]).includes(proto)) errs.push(notSupported(`${f}.protocol`, proto, supportedPortProtocols));
  });
  errs.push(...validateEnv(arrAt(c, 'env'), `${path}.env`));
  arrAt(c, 'envFrom').forEach((e, i) => {
    const f = `${path}.envFrom[${i}]`;
    const n = ['configMapRef', 'secretRef'].filter((k) => isObj(e) && isObj(e[k])).length;
    if (n === 0) errs.push(invalid(f, '', 'must specify one of: `configMapRef` or `secretRef`'));
    else if (n > 1) errs.push(invalid(f, '', 'may not have more than one field specified at a time'));
  });
  const mountPaths = new Set<string>();
  arrAt(c, 'volumeMounts').forEach((m, i) => {
    const f = `${path}.volumeMounts[${i}]`;
    const mname = strAt(m, 'name') ?? '';
    if (!mname) errs.push(required(`${f}.name`, ''));
    else if (!ctx.volumes.has(mname)) errs.push(notFoundError(`${f}.name`, mname));
    const mp = strAt(m, 'mountPath') ?? '';
    if (!mp) errs.push(required(`${f}.mountPath`, ''));
    else if (mountPaths.has(mp)) errs.push(invalid(`${f}.mountPath`, mp, 'must be unique'));
    mountPaths.add(mp);
    const sub = strAt(m, 'subPath');
    if (sub && sub.startsWith('/')) errs.push(invalid(`${f}.subPath`, sub, 'must be a relative path'));
    else if (sub && sub.split('/').includes('..')) errs.push(invalid(`${f}.subPath`, sub, "must not contain '..'"));
  });
  const regularOrSidecar = !ctx.init || c.restartPolicy === 'Always';
  if (regularOrSidecar) {
    errs.push(...validateProbe(c.livenessProbe, `${path}.livenessProbe`, true));
    errs.push(...validateProbe(c.readinessProbe, `${path}.readinessProbe`, false));
    errs.push(...validateProbe(c.startupProbe, `${path}.startupProbe`, true));
  } else {
    for (const k of ['livenessProbe', 'readinessProbe', 'startupProbe']) {
      if (c[k] !== undefined && c[k] !== null) errs.push(forbidden(`${path}.${k}`, 'may not be set for init containers without restartPolicy=Always'));
    }
  }
  errs.push(...validateResourceRequirements(c.resources, `${path}.resources`));
  return errs;
}

/** Validates a PodSpec at `path` (`spec`, or `spec.template.spec` for workloads). */
export function validatePodSpec(spec: unknown, path: string): FieldError[] {
  if (!isObj(spec)) return [required(path, '')];
  const errs: FieldError[] = [];
  const { errs: volErrs, names: volumes } = validateVolumes(arrAt(spec, 'volumes'), `${path}.volumes`);
  errs.push(...volErrs);
  const ctx: ContainerContext = { volumes, names: new Set(), hostPorts: new Set(), hostNetwork: spec.hostNetwork === true, init: true };
  arrAt(spec, 'initContainers').forEach((c, i) => errs.push(...validateContainer(c, `${path}.initContainers[${i}]`, ctx)));
  ctx.init = false;
  const containers = arrAt(spec, 'containers');
  if (containers.length === 0) errs.push(required(`${path}.containers`, ''));
  containers.forEach((c, i) => errs.push(...validateContainer(c, `${path}.containers[${i}]`, ctx)));
  const restart = spec.restartPolicy;
  if (restart === undefined || restart === '') errs.push(required(`${path}.restartPolicy`, ''));
  else if (!(restartPolicies as readonly unknown[]).includes(restart)) errs.push(notSupported(`${path}.restartPolicy`, restart, restartPolicies));
  const dns = spec.dnsPolicy;
  if (dns === undefined || dns === '') errs.push(required(`${path}.dnsPolicy`, ''));
  else if (!(dnsPolicies as readonly unknown[]).includes(dns)) errs.push(notSupported(`${path}.dnsPolicy`, dns, dnsPolicies));
  if (dns === 'None' && !isObj(spec.dnsConfig)) errs.push(required(`${path}.dnsConfig`, 'must provide `dnsConfig` when `dnsPolicy` is None'));
  if (isObj(spec.dnsConfig)) {
    const ns = arrAt(spec.dnsConfig, 'nameservers');
    if (ns.length > 3) errs.push(invalid(`${path}.dnsConfig.nameservers`, ns, 'must not have more than 3 nameservers'));
    if (dns === 'None' && ns.length === 0) errs.push(required(`${path}.dnsConfig.nameservers`, 'must provide at least one DNS nameserver when `dnsPolicy` is None'));
  }
  errs.push(...validateLabels(stringMap(spec.nodeSelector), `${path}.nodeSelector`));
  const sa = strAt(spec, 'serviceAccountName');
  if (sa) for (const m of isDNS1123Subdomain(sa)) errs.push(invalid(`${path}.serviceAccountName`, sa, m));
  const node = strAt(spec, 'nodeName');
  if (node) for (const m of isDNS1123Subdomain(node)) errs.push(invalid(`${path}.nodeName`, node, m));
  const ads = spec.activeDeadlineSeconds;
  if (ads !== undefined && ads !== null && (typeof ads !== 'number' || ads < 1 || ads > 2147483647)) {
    errs.push(invalid(`${path}.activeDeadlineSeconds`, ads, 'must be between 1 and 2147483647, inclusive'));
  }
  for (const k of ['hostname', 'subdomain'] as const) {
    const v = strAt(spec, k);
    if (v) for (const m of isDNS1123Label(v)) errs.push(invalid(`${path}.${k}`, v, m));
  }
  errs.push(...validateTolerations(arrAt(spec, 'tolerations'), `${path}.tolerations`));
  const gates = new Set<string>();
  arrAt(spec, 'schedulingGates').forEach((g, i) => {
    const gname = strAt(g, 'name') ?? '';
    for (const m of validateQualifiedName(gname)) errs.push(invalid(`${path}.schedulingGates[${i}].name`, gname, m));
    if (gates.has(gname)) errs.push(duplicate(`${path}.schedulingGates[${i}].name`, gname));
    gates.add(gname);
  });
  const pri = spec.priority;
  if (pri !== undefined && pri !== null && (typeof pri !== 'number' || !Number.isInteger(pri))) errs.push(invalid(`${path}.priority`, pri, 'must be an integer'));
  const pp = spec.preemptionPolicy;
  if (pp !== undefined && pp !== null && pp !== 'PreemptLowerPriority' && pp !== 'Never') errs.push(notSupported(`${path}.preemptionPolicy`, pp, ['Never', 'PreemptLowerPriority']));
  return errs;
}

/**
 * `ValidatePodTemplateSpec` at `path` (e.g. `spec.template`): labels, annotations and the
 * spec. Pod templates of controllers must restart their containers, so callers that need it
 * check `restartPolicy` themselves.
 */
/** The labels and annotations of a pod template. */
export function validatePodTemplateMetadata(template: unknown, path: string): FieldError[] {
  if (!isObj(template)) return [required(path, '')];
  const errs: FieldError[] = [];
  const meta: Obj = isObj(template.metadata) ? template.metadata : {};
  errs.push(...validateLabels(stringMap(meta.labels), `${path}.metadata.labels`));
  for (const k of Object.keys(stringMap(meta.annotations))) {
    for (const m of validateQualifiedName(k.toLowerCase())) errs.push(invalid(`${path}.metadata.annotations`, k, m));
  }
  return errs;
}

export function validatePodTemplateSpec(template: unknown, path: string): FieldError[] {
  if (!isObj(template)) return [required(path, '')];
  return [...validatePodTemplateMetadata(template, path), ...validatePodSpec(template.spec, `${path}.spec`)];
}
