/**
 * Endpoints: written by the endpoints controller with PUT-or-create (`allowCreateOnUpdate`);
 * addresses must be IPs (not loopback, link-local or multicast), ports valid.
 */
import type { FieldError } from '../../../../machinery/status-error.js';
import { isDNS1123Label, isDNS1123Subdomain } from '../../../../machinery/name-validation.js';
import type { KubeObject, Strategy } from '../../strategy.js';
import { arrAt, duplicate, invalid, isObj, notSupported, numAt, required, strAt } from '../group-checks.js';
import { portNumErrors, supportedPortProtocols, validateIP } from './core-checks.js';

/** SetDefaults_Endpoints: ports are TCP unless said otherwise. */
export function defaultEndpoints(ep: KubeObject): void {
  for (const subset of arrAt(ep, 'subsets')) {
    for (const p of arrAt(subset, 'ports')) if (isObj(p) && !p.protocol) p.protocol = 'TCP';
  }
}

function validateAddress(addr: unknown, f: string): FieldError[] {
  const errs: FieldError[] = [];
  const ip = strAt(addr, 'ip');
  const ipErrs = validateIP(ip, `${f}.ip`);
  errs.push(...ipErrs);
  if (ip && ipErrs.length === 0) {
    if (/^127\./.test(ip) || ip === '::1') errs.push(invalid(`${f}.ip`, ip, 'may not be in the loopback range (127.0.0.0/8, ::1/128)'));
    else if (/^169\.254\./.test(ip) || /^fe80:/i.test(ip)) errs.push(invalid(`${f}.ip`, ip, 'may not be in the link-local range (169.254.0.0/16, fe80::/10)'));
    else if (/^22[4-9]\.|^23\d\./.test(ip) || /^ff/i.test(ip)) errs.push(invalid(`${f}.ip`, ip, 'may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)'));
    else if (ip === '0.0.0.0' || ip === '::') errs.push(invalid(`${f}.ip`, ip, 'may not be unspecified (0.0.0.0)'));
  }
  const host = strAt(addr, 'hostname');
  if (host) for (const m of isDNS1123Label(host)) errs.push(invalid(`${f}.hostname`, host, m));
  const node = strAt(addr, 'nodeName');
  if (node) for (const m of isDNS1123Subdomain(node)) errs.push(invalid(`${f}.nodeName`, node, m));
  return errs;
}

export function validateEndpoints(ep: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  arrAt(ep, 'subsets').forEach((subset, i) => {
    const f = `subsets[${i}]`;
    const addrs = arrAt(subset, 'addresses');
    const notReady = arrAt(subset, 'notReadyAddresses');
    const ports = arrAt(subset, 'ports');
    if (addrs.length === 0 && notReady.length === 0) errs.push(required(f, 'must specify `addresses` or `notReadyAddresses`'));
    addrs.forEach((a, j) => errs.push(...validateAddress(a, `${f}.addresses[${j}]`)));
    notReady.forEach((a, j) => errs.push(...validateAddress(a, `${f}.notReadyAddresses[${j}]`)));
    const names = new Set<string>();
    ports.forEach((p, j) => {
      const pf = `${f}.ports[${j}]`;
      const name = strAt(p, 'name') ?? '';
      if (ports.length > 1 && !name) errs.push(required(`${pf}.name`, ''));
      if (name) {
        for (const m of isDNS1123Label(name)) errs.push(invalid(`${pf}.name`, name, m));
        if (names.has(name)) errs.push(duplicate(`${pf}.name`, name));
        names.add(name);
      }
      const port = numAt(p, 'port') ?? 0;
      for (const m of portNumErrors(port)) errs.push(invalid(`${pf}.port`, port, m));
      const proto = strAt(p, 'protocol') ?? '';
      if (!proto) errs.push(required(`${pf}.protocol`, ''));
      else if (!(supportedPortProtocols as readonly string[]).includes(proto)) errs.push(notSupported(`${pf}.protocol`, proto, supportedPortProtocols));
    });
  });
  return errs;
}

export const endpointsStrategy: Strategy = {
  default: defaultEndpoints,
  allowCreateOnUpdate: true,
  validate: (obj) => validateEndpoints(obj),
  validateUpdate: (obj) => validateEndpoints(obj),
};
