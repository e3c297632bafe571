/**
 * Services (pkg/registry/core/service): defaults, validation, and the allocation of ClusterIPs
 * and NodePorts. Allocation happens in `validate`/`validateUpdate`, after the object is known
 * to be valid (Kubernetes allocates after validation too), and each request's reservations are
 * remembered so that `rollback` (failed or dry-run writes) can undo them exactly; `afterDelete`
 * frees what a deleted Service held.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { internalError, type FieldError } from '../../../../machinery/status-error.js';
import { isDNS1123Label, isDNS1123Subdomain, validateQualifiedName } from '../../../../machinery/name-validation.js';
import { validateLabels } from '../../object-meta-validation.js';
import type { KubeObject, Strategy } from '../../strategy.js';
import { deepEqual } from '../../../../machinery/json-value.js';
import { AllocationError, IPAllocator } from '../../allocators/ip-allocator.js';
import { PortAllocator } from '../../allocators/port-allocator.js';
import {
  arrAt,
  duplicate,
  forbidden,
  goStringSlice,
  invalid,
  invalidGo,
  isObj,
  notSupported,
  numAt,
  required,
  strAt,
  type Obj,
} from '../group-checks.js';
import { portNumErrors, stringMap, supportedPortProtocols, validateIP, validatePortNumOrName } from './core-checks.js';

/** What the Service strategy needs from the server. */
export interface ServiceAllocatorOptions {
  /** The service CIDR (`--service-cidr`), e.g. `10.43.0.0/16`. */
  serviceCIDR: string;
  /** Inclusive NodePort range, e.g. [30000, 32767]. */
  nodePortRange: readonly [number, number];
  /**
   * Every stored Service (all namespaces), read once before the first allocation so that IPs
   * and ports already in use are marked. Typically `() => store.list({ namespace: '' })`.
   */
  existingServices: () => Promise<KubeObject[]>;
  /** Random source for the allocators (tests make it deterministic). */
  random?: () => number;
}

/**
 * The ClusterIP and NodePort allocators of one API server, seeded from the stored Services.
 * `init()` is idempotent; the strategy awaits it before every allocation, and the server may
 * await it at start to surface a broken store early.
 */
export class ServiceAllocators {
  readonly ips: IPAllocator;
  readonly ports: PortAllocator;
  private initPromise: Promise<void> | undefined;

  constructor(private readonly opts: ServiceAllocatorOptions) {
    this.ips = new IPAllocator(opts.serviceCIDR, opts.random);
    this.ports = new PortAllocator(opts.nodePortRange, opts.random);
  }

  init(): Promise<void> {
    this.initPromise ??= this.seed().catch((e: unknown) => {
      this.initPromise = undefined;
      throw e;
    });
    return this.initPromise;
  }

  private async seed(): Promise<void> {
    for (const svc of await this.opts.existingServices()) {
      for (const ip of heldIPs(svc)) if (this.ips.contains(ip) && !this.ips.has(ip)) this.ips.allocate(ip);
      for (const port of heldPorts(svc)) if (this.ports.contains(port) && !this.ports.has(port)) this.ports.allocate(port);
    }
  }
}

function specOf(obj: KubeObject): Obj {
  if (!isObj(obj.spec)) obj.spec = {};
  return obj.spec as Obj;
}

function typeOf(spec: Obj): string {
  return strAt(spec, 'type') ?? 'ClusterIP';
}

function clusterIPsOf(spec: Obj): string[] {
  return arrAt(spec, 'clusterIPs').filter((s): s is string => typeof s === 'string');
}

/** Addresses a stored Service holds (not `None`). */
function heldIPs(svc: KubeObject): string[] {
  const spec: Obj = isObj(svc.spec) ? svc.spec : {};
  if (typeOf(spec) === 'ExternalName') return [];
  const ips = clusterIPsOf(spec);
  const primary = strAt(spec, 'clusterIP');
  if (primary && !ips.includes(primary)) ips.unshift(primary);
  return ips.filter((ip) => ip && ip !== 'None');
}

/** NodePorts (and the health-check port) a stored Service holds. */
function heldPorts(svc: KubeObject): number[] {
  const spec: Obj = isObj(svc.spec) ? svc.spec : {};
  const ports = new Set<number>();
  for (const p of arrAt(spec, 'ports')) {
    const n = numAt(p, 'nodePort');
    if (n) ports.add(n);
  }
  const hc = numAt(spec, 'healthCheckNodePort');
  if (hc) ports.add(hc);
  return [...ports];
}

function needsClusterIP(spec: Obj): boolean {
  return typeOf(spec) !== 'ExternalName';
}

function needsNodePorts(spec: Obj): boolean {
  const t = typeOf(spec);
  return t === 'NodePort' || (t === 'LoadBalancer' && spec.allocateLoadBalancerNodePorts !== false);
}

function needsHealthCheckPort(spec: Obj): boolean {
  return typeOf(spec) === 'LoadBalancer' && spec.externalTrafficPolicy === 'Local';
}

/** SetDefaults_Service, plus keeping `clusterIP` and `clusterIPs` in step. */
export function defaultService(svc: KubeObject): void {
  const spec = specOf(svc);
  if (!spec.sessionAffinity) spec.sessionAffinity = 'None';
  if (spec.sessionAffinity === 'None') delete spec.sessionAffinityConfig;
  if (spec.sessionAffinity === 'ClientIP') {
    const cfg = isObj(spec.sessionAffinityConfig) ? spec.sessionAffinityConfig : undefined;
    const clientIP = cfg && isObj(cfg.clientIP) ? cfg.clientIP : undefined;
    if (!clientIP || typeof clientIP.timeoutSeconds !== 'number') spec.sessionAffinityConfig = { clientIP: { timeoutSeconds: 10800 } };
  }
  if (!spec.type) spec.type = 'ClusterIP';
  for (const p of arrAt(spec, 'ports')) {
    if (!isObj(p)) continue;
    if (!p.protocol) p.protocol = 'TCP';
    if (p.targetPort === undefined || p.targetPort === null || p.targetPort === 0 || p.targetPort === '') p.targetPort = p.port;
  }
  const t = spec.type;
  if ((t === 'NodePort' || t === 'LoadBalancer') && !spec.externalTrafficPolicy) spec.externalTrafficPolicy = 'Cluster';
  if ((t === 'NodePort' || t === 'LoadBalancer' || t === 'ClusterIP') && !spec.internalTrafficPolicy) spec.internalTrafficPolicy = 'Cluster';
  if (t === 'LoadBalancer' && typeof spec.allocateLoadBalancerNodePorts !== 'boolean') spec.allocateLoadBalancerNodePorts = true;
  if (t === 'LoadBalancer' && isObj(svc.status) && isObj(svc.status.loadBalancer)) {
    for (const ing of arrAt(svc.status.loadBalancer, 'ingress')) if (isObj(ing) && ing.ip && !ing.ipMode) ing.ipMode = 'VIP';
  }
  const ips = clusterIPsOf(spec);
  const primary = strAt(spec, 'clusterIP');
  if (primary && ips.length === 0) spec.clusterIPs = [primary];
  else if (!primary && ips.length > 0) spec.clusterIP = ips[0];
}

function goServicePortKey(protocol: string, port: unknown): string {
  return `core.ServicePort{Name:"", Protocol:${JSON.stringify(protocol)}, AppProtocol:(*string)(nil), Port:${String(port)}, TargetPort:intstr.IntOrString{Type:0, IntVal:0, StrVal:""}, NodePort:0}`;
}

/** `ValidateService` minus metadata, and minus checks that depend on allocation. */
export function validateService(svc: KubeObject, clusterFamily: 'IPv4' | 'IPv6' = 'IPv4'): FieldError[] {
  const errs: FieldError[] = [];
  const spec = specOf(svc);
  const type = typeOf(spec);
  const types = ['ClusterIP', 'ExternalName', 'LoadBalancer', 'NodePort'];
  if (!types.includes(type)) errs.push(notSupported('spec.type', type, types));
  const ips = clusterIPsOf(spec);
  const primary = strAt(spec, 'clusterIP') ?? '';
  const headless = primary === 'None';
  const ports = arrAt(spec, 'ports');
  if (ports.length === 0 && !headless && type !== 'ExternalName') errs.push(required('spec.ports', ''));
  const names = new Set<string>();
  ports.forEach((p, i) => {
    const f = `spec.ports[${i}]`;
    if (!isObj(p)) {
      errs.push(invalid(f, p, 'must be an object'));
      return;
    }
    const name = strAt(p, 'name') ?? '';
    if (ports.length > 1 && !name) errs.push(required(`${f}.name`, ''));
    else if (name) {
      for (const m of isDNS1123Label(name)) errs.push(invalid(`${f}.name`, name, m));
      if (names.has(name)) errs.push(duplicate(`${f}.name`, name));
      names.add(name);
    }
    const port = p.port;
    for (const m of portNumErrors(typeof port === 'number' ? port : NaN)) errs.push(invalid(`${f}.port`, port ?? 0, m));
    const proto = strAt(p, 'protocol') ?? '';
    if (!proto) errs.push(required(`${f}.protocol`, ''));
    else if (!(supportedPortProtocols as readonly string[]).includes(proto)) errs.push(notSupported(`${f}.protocol`, proto, supportedPortProtocols));
    errs.push(...validatePortNumOrName(p.targetPort, `${f}.targetPort`));
    const app = strAt(p, 'appProtocol');
    if (app) for (const m of validateQualifiedName(app)) errs.push(invalid(`${f}.appProtocol`, app, m));
    const np = p.nodePort;
    if (np !== undefined && np !== 0 && np !== null) {
      if (type === 'ClusterIP') errs.push(forbidden(`${f}.nodePort`, "may not be used when `type` is 'ClusterIP'"));
      else for (const m of portNumErrors(Number(np))) errs.push(invalid(`${f}.nodePort`, np, m));
    }
  });
  const seenPorts = new Set<string>();
  const seenNodePorts = new Set<string>();
  ports.forEach((p, i) => {
    const proto = strAt(p, 'protocol') ?? '';
    const key = `${proto}/${String(isObj(p) ? p.port : '')}`;
    if (seenPorts.has(key)) errs.push({ type: 'FieldValueDuplicate', field: `spec.ports[${i}]`, detail: goServicePortKey(proto, isObj(p) ? p.port : 0) });
    seenPorts.add(key);
    const np = numAt(p, 'nodePort');
    if (np) {
      const nkey = `${proto}/${np}`;
      if (seenNodePorts.has(nkey)) errs.push(duplicate(`spec.ports[${i}].nodePort`, np));
      seenNodePorts.add(nkey);
    }
  });
  if (type === 'ExternalName') {
    if (ips.length > 0) errs.push(forbidden('spec.clusterIPs', 'may not be set for ExternalName services'));
    if (arrAt(spec, 'ipFamilies').length > 0) errs.push(forbidden('spec.ipFamilies', 'may not be set for ExternalName services'));
    if (spec.ipFamilyPolicy !== undefined && spec.ipFamilyPolicy !== null) errs.push(forbidden('spec.ipFamilyPolicy', 'may not be set for ExternalName services'));
    const cname = (strAt(spec, 'externalName') ?? '').replace(/\.$/, '');
    if (!cname) errs.push(required('spec.externalName', ''));
    else for (const m of isDNS1123Subdomain(cname)) errs.push(invalid('spec.externalName', cname, m));
  }
  const affinity = spec.sessionAffinity;
  if (affinity !== 'ClientIP' && affinity !== 'None') errs.push(notSupported('spec.sessionAffinity', affinity ?? '', ['ClientIP', 'None']));
  if (affinity === 'ClientIP') {
    const cfg = spec.sessionAffinityConfig;
    const secs = isObj(cfg) && isObj(cfg.clientIP) ? cfg.clientIP.timeoutSeconds : undefined;
    if (typeof secs === 'number' && (secs <= 0 || secs > 86400)) {
      errs.push(invalid('spec.sessionAffinityConfig.clientIP.timeoutSeconds', secs, 'must be greater than 0 and less than 86400'));
    }
  }
  errs.push(...validateLabels(stringMap(spec.selector), 'spec.selector'));
  arrAt(spec, 'externalIPs').forEach((ip, i) => errs.push(...validateIP(ip, `spec.externalIPs[${i}]`)));
  const externallyAccessible = type === 'NodePort' || type === 'LoadBalancer' || (type === 'ClusterIP' && arrAt(spec, 'externalIPs').length > 0);
  const etp = spec.externalTrafficPolicy;
  if (!externallyAccessible) {
    if (etp) errs.push(invalid('spec.externalTrafficPolicy', etp, 'may only be set for externally-accessible services'));
  } else if (etp && etp !== 'Cluster' && etp !== 'Local') {
    errs.push(notSupported('spec.externalTrafficPolicy', etp, ['Cluster', 'Local']));
  }
  const itp = spec.internalTrafficPolicy;
  if (itp !== undefined && itp !== null && itp !== 'Cluster' && itp !== 'Local') errs.push(notSupported('spec.internalTrafficPolicy', itp, ['Cluster', 'Local']));
  const hc = numAt(spec, 'healthCheckNodePort');
  if (hc && !(type === 'LoadBalancer' && etp === 'Local')) {
    errs.push(invalid('spec.healthCheckNodePort', hc, "may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'"));
  }
  if (type === 'LoadBalancer') {
    if (typeof spec.allocateLoadBalancerNodePorts !== 'boolean') errs.push(required('spec.allocateLoadBalancerNodePorts', ''));
  } else if (spec.allocateLoadBalancerNodePorts !== undefined && spec.allocateLoadBalancerNodePorts !== null) {
    errs.push(forbidden('spec.allocateLoadBalancerNodePorts', "may only be used when `type` is 'LoadBalancer'"));
  }
  if (type !== 'LoadBalancer') {
    if (arrAt(spec, 'loadBalancerSourceRanges').length > 0) errs.push(forbidden('spec.loadBalancerSourceRanges', "may only be used when `type` is 'LoadBalancer'"));
    if (strAt(spec, 'loadBalancerClass')) errs.push(forbidden('spec.loadBalancerClass', "may only be used when `type` is 'LoadBalancer'"));
  }
  // clusterIP / clusterIPs / families
  if (primary) {
    if (ips.length === 0) errs.push(required('spec.clusterIPs', ''));
    else if (ips[0] !== primary) errs.push(invalidGo('spec.clusterIPs', goStringSlice(ips), 'first value must match `clusterIP`'));
  } else if (ips.length > 0) {
    errs.push(invalidGo('spec.clusterIPs', goStringSlice(ips), 'must be empty when `clusterIP` is not specified'));
  }
  ips.forEach((ip, i) => {
    if (ip === 'None') {
      if (i > 0) errs.push(invalid(`spec.clusterIPs[${i}]`, ip, "'None' must be the first and only value"));
      return;
    }
    errs.push(...validateIP(ip, `spec.clusterIPs[${i}]`));
  });
  const families = arrAt(spec, 'ipFamilies');
  const seenFamilies = new Set<unknown>();
  families.forEach((fam, i) => {
    if (fam !== 'IPv4' && fam !== 'IPv6') errs.push(notSupported(`spec.ipFamilies[${i}]`, fam, ['IPv4', 'IPv6']));
    else if (fam !== clusterFamily) errs.push(invalid(`spec.ipFamilies[${i}]`, fam, 'not configured on this cluster'));
    if (seenFamilies.has(fam)) errs.push(duplicate(`spec.ipFamilies[${i}]`, fam));
    seenFamilies.add(fam);
  });
  const policy = spec.ipFamilyPolicy;
  const policies = ['PreferDualStack', 'RequireDualStack', 'SingleStack'];
  if (policy !== undefined && policy !== null && !policies.includes(String(policy))) errs.push(notSupported('spec.ipFamilyPolicy', policy, policies));
  if (policy === 'RequireDualStack') errs.push(invalid('spec.ipFamilyPolicy', policy, 'this cluster is not configured for dual-stack services'));
  if (ips.length > 1 && ips[0] !== 'None') errs.push(invalidGo('spec.clusterIPs', goStringSlice(ips), 'this cluster is not configured for dual-stack services'));
  const ipOfOtherFamily = ips.find((ip) => ip !== 'None' && (clusterFamily === 'IPv4' ? isIPv6(ip) : isIPv4(ip)));
  if (ipOfOtherFamily && ips.length === 1) errs.push(invalid('spec.clusterIPs[0]', ipOfOtherFamily, `expected an ${clusterFamily} value as indicated by \`ipFamilies[0]\``));
  return errs;
}

/** `validateUpgradeDowngradeClusterIPs` and friends: what may not change on update. */
export function validateServiceUpdate(svc: KubeObject, old: KubeObject, clusterFamily: 'IPv4' | 'IPv6' = 'IPv4'): FieldError[] {
  const errs = validateService(svc, clusterFamily);
  const spec = specOf(svc);
  const oldSpec: Obj = isObj(old.spec) ? old.spec : {};
  if (typeOf(spec) === 'ExternalName' || typeOf(oldSpec) === 'ExternalName') return errs;
  const ips = clusterIPsOf(spec);
  const oldIPs = clusterIPsOf(oldSpec);
  if (oldSpec.clusterIP === 'None' && spec.clusterIP === 'None') return errs;
  if (oldIPs.length > 0 && ips.length === 0) errs.push(required('spec.clusterIPs[0]', 'primary clusterIP can not be unset'));
  else if (oldIPs.length > 0 && oldIPs[0] !== ips[0]) errs.push(invalidGo('spec.clusterIPs[0]', goStringSlice(ips), 'may not change once set'));
  const fams = arrAt(spec, 'ipFamilies');
  const oldFams = arrAt(oldSpec, 'ipFamilies');
  if (oldFams.length > 0 && fams.length > 0 && fams[0] !== oldFams[0]) {
    errs.push(invalidGo('spec.ipFamilies[0]', `[]core.IPFamily{${fams.map((f) => JSON.stringify(f)).join(', ')}}`, 'may not change once set'));
  }
  return errs;
}

/** `dropTypeDependentFields` + `patchAllocatedValues`: what an update inherits or loses with its type. */
function carryOverAllocations(spec: Obj, oldSpec: Obj): void {
  const sameIPs = deepEqual(spec.clusterIPs ?? [], oldSpec.clusterIPs ?? []) && (spec.clusterIP ?? '') === (oldSpec.clusterIP ?? '');
  if (needsClusterIP(oldSpec) && !needsClusterIP(spec)) {
    if (sameIPs) {
      delete spec.clusterIP;
      delete spec.clusterIPs;
    }
    if (deepEqual(spec.ipFamilies, oldSpec.ipFamilies)) delete spec.ipFamilies;
    if (spec.ipFamilyPolicy === oldSpec.ipFamilyPolicy) delete spec.ipFamilyPolicy;
    if (spec.internalTrafficPolicy === oldSpec.internalTrafficPolicy) delete spec.internalTrafficPolicy;
  }
  if (needsClusterIP(oldSpec) && needsClusterIP(spec)) {
    if (!strAt(spec, 'clusterIP') && clusterIPsOf(spec).length === 0) {
      if (oldSpec.clusterIP !== undefined) spec.clusterIP = oldSpec.clusterIP;
      if (oldSpec.clusterIPs !== undefined) spec.clusterIPs = structuredClone(oldSpec.clusterIPs);
    }
    if (arrAt(spec, 'ipFamilies').length === 0 && oldSpec.ipFamilies !== undefined) spec.ipFamilies = structuredClone(oldSpec.ipFamilies);
    if (!spec.ipFamilyPolicy && oldSpec.ipFamilyPolicy !== undefined) spec.ipFamilyPolicy = oldSpec.ipFamilyPolicy;
  }
  const oldHadNodePorts = arrAt(oldSpec, 'ports').some((p) => numAt(p, 'nodePort'));
  if (oldHadNodePorts && !needsNodePorts(spec) && typeOf(spec) !== 'LoadBalancer') {
    const oldByPort = arrAt(oldSpec, 'ports');
    for (const p of arrAt(spec, 'ports')) {
      if (!isObj(p)) continue;
      const np = numAt(p, 'nodePort');
      if (np && oldByPort.some((o) => numAt(o, 'nodePort') === np)) delete p.nodePort;
    }
  }
  if (needsNodePorts(oldSpec) && needsNodePorts(spec)) {
    const newUsed = new Set(arrAt(spec, 'ports').map((p) => numAt(p, 'nodePort')).filter((n): n is number => !!n));
    const byName = new Map<string, number>();
    for (const p of arrAt(oldSpec, 'ports')) {
      const np = numAt(p, 'nodePort');
      if (np) byName.set(strAt(p, 'name') ?? '', np);
    }
    for (const p of arrAt(spec, 'ports')) {
      if (!isObj(p) || numAt(p, 'nodePort')) continue;
      const old = byName.get(strAt(p, 'name') ?? '');
      if (old && !newUsed.has(old)) {
        p.nodePort = old;
        newUsed.add(old);
      }
    }
  }
  if (!needsHealthCheckPort(spec) && numAt(spec, 'healthCheckNodePort') === numAt(oldSpec, 'healthCheckNodePort')) delete spec.healthCheckNodePort;
  if (needsHealthCheckPort(spec) && needsHealthCheckPort(oldSpec) && !numAt(spec, 'healthCheckNodePort') && numAt(oldSpec, 'healthCheckNodePort')) {
    spec.healthCheckNodePort = oldSpec.healthCheckNodePort;
  }
  const t = typeOf(spec);
  if (t !== 'NodePort' && t !== 'LoadBalancer' && spec.externalTrafficPolicy === oldSpec.externalTrafficPolicy && arrAt(spec, 'externalIPs').length === 0) delete spec.externalTrafficPolicy;
  if (t !== 'LoadBalancer' && spec.allocateLoadBalancerNodePorts === oldSpec.allocateLoadBalancerNodePorts) delete spec.allocateLoadBalancerNodePorts;
  if (t !== 'LoadBalancer' && spec.loadBalancerClass === oldSpec.loadBalancerClass) delete spec.loadBalancerClass;
}

function defaultFamilies(spec: Obj, family: 'IPv4' | 'IPv6'): void {
  if (!needsClusterIP(spec)) return;
  if (!spec.ipFamilyPolicy) spec.ipFamilyPolicy = 'SingleStack';
  if (arrAt(spec, 'ipFamilies').length === 0) spec.ipFamilies = [family];
}

/** What one write reserved and released, so a rollback can undo it. */
interface Reservation {
  ips: string[];
  ports: number[];
  releasedIPs: string[];
  releasedPorts: number[];
}

/** The Service strategy bound to the server's allocators. */
export function serviceStrategy(alloc: ServiceAllocators): Strategy {
  const reservations = new WeakMap<KubeObject, Reservation>();
  const family = alloc.ips.family;

  function undo(obj: KubeObject): void {
    const r = reservations.get(obj);
    if (!r) return;
    reservations.delete(obj);
    for (const ip of r.ips) alloc.ips.release(ip);
    for (const p of r.ports) alloc.ports.release(p);
    for (const ip of r.releasedIPs) if (!alloc.ips.has(ip)) alloc.ips.allocate(ip);
    for (const p of r.releasedPorts) if (!alloc.ports.has(p)) alloc.ports.allocate(p);
  }

  /** Allocates what `spec` needs beyond `held`; records it in `r`. Returns field errors (throws for a full range). */
  function allocate(spec: Obj, held: { ips: Set<string>; ports: Set<number> }, r: Reservation): FieldError[] {
    if (needsClusterIP(spec) && spec.clusterIP !== 'None') {
      const requested = strAt(spec, 'clusterIP');
      if (requested) {
        if (!held.ips.has(requested)) {
          try {
            alloc.ips.allocate(requested);
            r.ips.push(requested);
          } catch (e) {
            if (!(e instanceof AllocationError)) throw e;
            return [invalidGo('spec.clusterIPs', goStringSlice(clusterIPsOf(spec)), `failed to allocate IP ${requested}: ${e.message}`)];
          }
        }
      } else {
        try {
          const ip = alloc.ips.allocateNext();
          r.ips.push(ip);
          spec.clusterIP = ip;
          spec.clusterIPs = [ip];
        } catch (e) {
          if (!(e instanceof AllocationError)) throw e;
          throw internalError(`failed to allocate a serviceIP: ${e.message}`);
        }
      }
    }
    const allocPort = (p: number, field: string): FieldError[] => {
      if (held.ports.has(p)) return [];
      try {
        alloc.ports.allocate(p);
        r.ports.push(p);
        held.ports.add(p);
        return [];
      } catch (e) {
        if (!(e instanceof AllocationError)) throw e;
        return [invalid(field, p, e.message)];
      }
    };
    const nextPort = (): number => {
      try {
        const p = alloc.ports.allocateNext();
        r.ports.push(p);
        held.ports.add(p);
        return p;
      } catch (e) {
        if (!(e instanceof AllocationError)) throw e;
        throw internalError(`failed to allocate a nodePort: ${e.message}`);
      }
    };
    const type = typeOf(spec);
    if (type === 'NodePort' || type === 'LoadBalancer') {
      const auto = needsNodePorts(spec);
      // A port number shared by TCP and UDP entries gets one node port.
      const byPortNumber = new Map<unknown, number>();
      const errs: FieldError[] = [];
      arrAt(spec, 'ports').forEach((p, i) => {
        if (!isObj(p)) return;
        const np = numAt(p, 'nodePort');
        if (np) {
          errs.push(...allocPort(np, `spec.ports[${i}].nodePort`));
          byPortNumber.set(p.port, np);
        } else if (auto) {
          const shared = byPortNumber.get(p.port);
          p.nodePort = shared ?? nextPort();
          byPortNumber.set(p.port, p.nodePort as number);
        }
      });
      if (errs.length) return errs;
    }
    if (needsHealthCheckPort(spec)) {
      const hc = numAt(spec, 'healthCheckNodePort');
      if (hc) return allocPort(hc, 'spec.healthCheckNodePort');
      spec.healthCheckNodePort = nextPort();
    }
    return [];
  }

  return {
    default: defaultService,
    prepareForCreate(obj) {
      obj.status = { loadBalancer: {} };
      defaultFamilies(specOf(obj), family);
    },
    async validate(obj) {
      const errs = validateService(obj, family);
      if (errs.length) return errs;
      await alloc.init();
      const r: Reservation = { ips: [], ports: [], releasedIPs: [], releasedPorts: [] };
      reservations.set(obj, r);
      return allocate(specOf(obj), { ips: new Set(), ports: new Set() }, r);
    },
    prepareForUpdate(obj, old) {
      obj.status = structuredClone(old.status);
      const spec = specOf(obj);
      carryOverAllocations(spec, isObj(old.spec) ? old.spec : {});
      defaultFamilies(spec, family);
    },
    async validateUpdate(obj, old) {
      const errs = validateServiceUpdate(obj, old, family);
      if (errs.length) return errs;
      await alloc.init();
      const r: Reservation = { ips: [], ports: [], releasedIPs: [], releasedPorts: [] };
      reservations.set(obj, r);
      const oldIPs = new Set(heldIPs(old));
      const oldPorts = new Set(heldPorts(old));
      const allocErrs = allocate(specOf(obj), { ips: new Set(oldIPs), ports: new Set(oldPorts) }, r);
      if (allocErrs.length) return allocErrs;
      // Whatever the old object held and the new one does not is free again.
      const nowIPs = new Set(heldIPs(obj));
      const nowPorts = new Set(heldPorts(obj));
      for (const ip of oldIPs) {
        if (!nowIPs.has(ip) && alloc.ips.has(ip)) {
          alloc.ips.release(ip);
          r.releasedIPs.push(ip);
        }
      }
      for (const p of oldPorts) {
        if (!nowPorts.has(p) && alloc.ports.has(p)) {
          alloc.ports.release(p);
          r.releasedPorts.push(p);
        }
      }
      return [];
    },
    rollback(obj) {
      undo(obj);
    },
    afterDelete(obj) {
      for (const ip of heldIPs(obj)) alloc.ips.release(ip);
      for (const p of heldPorts(obj)) alloc.ports.release(p);
    },
    selectableFields(obj) {
      const spec: Obj = isObj(obj.spec) ? obj.spec : {};
      return { 'spec.clusterIP': strAt(spec, 'clusterIP') ?? '', 'spec.type': strAt(spec, 'type') ?? '' };
    },
    nameValidation: 'dns1035',
    status: {
      validateUpdate(obj) {
        const errs: FieldError[] = [];
        const lb = isObj(obj.status) && isObj(obj.status.loadBalancer) ? obj.status.loadBalancer : {};
        arrAt(lb, 'ingress').forEach((ing, i) => {
          const ip = strAt(ing, 'ip');
          if (ip) errs.push(...validateIP(ip, `status.loadBalancer.ingress[${i}].ip`));
          const host = strAt(ing, 'hostname');
          if (host) for (const m of isDNS1123Subdomain(host)) errs.push(invalid(`status.loadBalancer.ingress[${i}].hostname`, host, m));
          const mode = isObj(ing) ? ing.ipMode : undefined;
          if (mode !== undefined && mode !== null && mode !== 'VIP' && mode !== 'Proxy') errs.push(notSupported(`status.loadBalancer.ingress[${i}].ipMode`, mode, ['Proxy', 'VIP']));
        });
        return errs;
      },
    },
  };
}
