/**
 * networking.k8s.io NetworkPolicy: selectors, ports (protocol defaults to TCP), peers (exactly
 * one of podSelector/namespaceSelector or ipBlock), ipBlocks (CIDR, excepts inside it) and
 * policyTypes, which default to Ingress plus Egress when egress rules are given.
 */
import { isIP } from 'node:net';
import type { FieldError } from '../../../../machinery/status-error.js';
import { specStatusStrategy, type KubeObject, type Strategy } from '../../strategy.js';
import { arrAt, child, forbidden, invalid, isObj, notSupported, objAt, required, setDefault, strAt, validateLabelSelector, type Obj } from '../group-checks.js';

const protocols = ['SCTP', 'TCP', 'UDP'];
const policyTypes = ['Egress', 'Ingress'];

/** `SetDefaults_NetworkPolicyPort` and `SetDefaults_NetworkPolicy`. */
export function defaultNetworkPolicy(obj: KubeObject): void {
  const spec = child(obj as Obj, 'spec');
  setDefault(spec, 'podSelector', {});
  for (const dir of ['ingress', 'egress']) {
    for (const rule of arrAt(spec, dir)) for (const p of arrAt(rule, 'ports')) if (isObj(p)) setDefault(p, 'protocol', 'TCP');
  }
  if (arrAt(spec, 'policyTypes').length === 0) {
    spec.policyTypes = arrAt(spec, 'egress').length > 0 ? ['Ingress', 'Egress'] : ['Ingress'];
  }
}

/** Parses `a.b.c.d/n` or an IPv6 CIDR; returns [family, address bits as bigint, prefix] or undefined. */
function parseCIDR(cidr: string): { family: 4 | 6; addr: bigint; prefix: number } | undefined {
  const slash = cidr.indexOf('/');
  if (slash < 0) return undefined;
  const ip = cidr.slice(0, slash);
  const prefixText = cidr.slice(slash + 1);
  if (!/^\d+$/.test(prefixText)) return undefined;
  const prefix = Number(prefixText);
  const family = isIP(ip);
  if (family === 4) {
    if (prefix > 32) return undefined;
    const addr = ip.split('.').reduce((acc, o) => (acc << 8n) + BigInt(Number(o)), 0n);
    return { family: 4, addr, prefix };
  }
  if (family === 6) {
    if (prefix > 128) return undefined;
    const [head = '', tail = ''] = ip.split('::');
    const h = head ? head.split(':') : [];
    const t = ip.includes('::') ? (tail ? tail.split(':') : []) : [];
    const groups = ip.includes('::') ? [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t] : h;
    const addr = groups.reduce((acc, g) => (acc << 16n) + BigInt(parseInt(g || '0', 16)), 0n);
    return { family: 6, addr, prefix };
  }
  return undefined;
}

function contains(outer: { family: number; addr: bigint; prefix: number }, inner: { family: number; addr: bigint; prefix: number }): boolean {
  if (outer.family !== inner.family || inner.prefix < outer.prefix) return false;
  const bits = BigInt(outer.family === 4 ? 32 : 128);
  const shift = bits - BigInt(outer.prefix);
  return outer.addr >> shift === inner.addr >> shift;
}

function validateIPBlock(block: Obj, field: string): FieldError[] {
  const errs: FieldError[] = [];
  const cidr = strAt(block, 'cidr') ?? '';
  if (!cidr) return [required(`${field}.cidr`)];
  const outer = parseCIDR(cidr);
  if (!outer) return [invalid(`${field}.cidr`, cidr, 'must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)')];
  arrAt(block, 'except').forEach((e, i) => {
    const f = `${field}.except[${i}]`;
    const inner = typeof e === 'string' ? parseCIDR(e) : undefined;
    if (!inner) errs.push(invalid(f, e, 'must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)'));
    else if (!contains(outer, inner) || inner.prefix === outer.prefix) errs.push(invalid(f, e, 'must be a strict subset of `cidr`'));
  });
  return errs;
}

function validatePeer(peer: unknown, field: string): FieldError[] {
  const errs: FieldError[] = [];
  const pod = objAt(peer, 'podSelector');
  const ns = objAt(peer, 'namespaceSelector');
  const block = objAt(peer, 'ipBlock');
  const count = (pod || ns ? 1 : 0) + (block ? 1 : 0);
  if (count === 0) return [required(field, 'must specify a peer')];
  if (count > 1) return [forbidden(field, 'may not specify more than 1 peer')];
  if (pod) errs.push(...validateLabelSelector(pod, `${field}.podSelector`));
  if (ns) errs.push(...validateLabelSelector(ns, `${field}.namespaceSelector`));
  if (block) errs.push(...validateIPBlock(block, `${field}.ipBlock`));
  return errs;
}

function validatePort(p: unknown, field: string): FieldError[] {
  const errs: FieldError[] = [];
  const protocol = strAt(p, 'protocol');
  if (protocol !== undefined && !protocols.includes(protocol)) errs.push(notSupported(`${field}.protocol`, protocol, protocols));
  const port = isObj(p) ? p.port : undefined;
  const endPort = isObj(p) ? p.endPort : undefined;
  if (typeof port === 'number') {
    if (port < 1 || port > 65535) errs.push(invalid(`${field}.port`, port, 'must be between 1 and 65535, inclusive'));
    if (typeof endPort === 'number') {
      if (endPort < port) errs.push(invalid(`${field}.endPort`, endPort, 'must be greater than or equal to `port`'));
      if (endPort > 65535) errs.push(invalid(`${field}.endPort`, endPort, 'must be between 1 and 65535, inclusive'));
    }
  } else if (typeof port === 'string') {
    if (!/^[-a-z0-9]{1,15}$/.test(port) || !/[a-z]/.test(port)) errs.push(invalid(`${field}.port`, port, 'must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)'));
    if (endPort !== undefined) errs.push(invalid(`${field}.endPort`, endPort, 'may not be specified when `port` is non-numeric'));
  } else if (endPort !== undefined) {
    errs.push(invalid(`${field}.endPort`, endPort, 'may not be specified when `port` is not specified'));
  }
  return errs;
}

export function validateNetworkPolicy(obj: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  const spec = isObj(obj.spec) ? obj.spec : {};
  errs.push(...validateLabelSelector(spec.podSelector, 'spec.podSelector'));
  for (const [dir, peerKey] of [['ingress', 'from'], ['egress', 'to']] as const) {
    arrAt(spec, dir).forEach((rule, i) => {
      const f = `spec.${dir}[${i}]`;
      arrAt(rule, 'ports').forEach((p, j) => errs.push(...validatePort(p, `${f}.ports[${j}]`)));
      arrAt(rule, peerKey).forEach((peer, j) => errs.push(...validatePeer(peer, `${f}.${peerKey}[${j}]`)));
    });
  }
  const types = arrAt(spec, 'policyTypes');
  types.forEach((t, i) => {
    if (typeof t !== 'string' || !policyTypes.includes(t)) errs.push(notSupported(`spec.policyTypes[${i}]`, t, policyTypes));
  });
  if (types.length > 2) errs.push(forbidden('spec.policyTypes', 'may not specify more than two policyTypes'));
  return errs;
}

export function networkPolicyStrategy(): Strategy {
  const base = specStatusStrategy();
  return {
    default: defaultNetworkPolicy,
    prepareForCreate: base.prepareForCreate,
    prepareForUpdate: base.prepareForUpdate,
    validate: (obj) => validateNetworkPolicy(obj),
    validateUpdate: (obj) => validateNetworkPolicy(obj),
  };
}
