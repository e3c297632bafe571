/**
 * discovery.k8s.io EndpointSlice: addressType is required and immutable, at most 1000
 * endpoints of 1–100 addresses each, at most 20000 ports; ports default to TCP.
 */
import { isIP } from 'node:net';
import type { FieldError } from '../../../../machinery/status-error.js';
import { isDNS1123Label, isDNS1123Subdomain } from '../../../../machinery/name-validation.js';
import type { KubeObject, Strategy } from '../../strategy.js';
import { arrAt, duplicate, immutable, invalid, isObj, notSupported, required, setDefault, strAt, tooMany } from '../group-checks.js';

export const maxEndpoints = 1000;
const maxAddresses = 100;
const maxPorts = 20000;
const addressTypes = ['FQDN', 'IPv4', 'IPv6'];
const protocols = ['SCTP', 'TCP', 'UDP'];

/** `SetDefaults_EndpointPort`: name "" and protocol TCP. */
export function defaultEndpointSlice(obj: KubeObject): void {
  for (const p of arrAt(obj, 'ports')) {
    if (!isObj(p)) continue;
    setDefault(p, 'name', '');
    setDefault(p, 'protocol', 'TCP');
  }
}

function validateAddress(addr: string, type: string, field: string): FieldError[] {
  switch (type) {
    case 'IPv4':
      return isIP(addr) === 4 ? [] : [invalid(field, addr, 'must be a valid IPv4 address')];
    case 'IPv6':
      return isIP(addr) === 6 ? [] : [invalid(field, addr, 'must be a valid IPv6 address')];
    case 'FQDN':
      return isDNS1123Subdomain(addr).map((m) => invalid(field, addr, m));
    default:
      return [];
  }
}

export function validateEndpointSlice(obj: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  const type = strAt(obj, 'addressType') ?? '';
  if (!type) errs.push(required('addressType'));
  else if (!addressTypes.includes(type)) errs.push(notSupported('addressType', type, addressTypes));
  const endpoints = arrAt(obj, 'endpoints');
  if (endpoints.length > maxEndpoints) errs.push(tooMany('endpoints', endpoints.length, maxEndpoints));
  endpoints.forEach((ep, i) => {
    const f = `endpoints[${i}]`;
    const addrs = arrAt(ep, 'addresses');
    if (addrs.length === 0) errs.push(required(`${f}.addresses`, 'must contain at least 1 address'));
    else if (addrs.length > maxAddresses) errs.push(tooMany(`${f}.addresses`, addrs.length, maxAddresses));
    addrs.forEach((a, j) => {
      if (typeof a === 'string') errs.push(...validateAddress(a, type, `${f}.addresses[${j}]`));
    });
    const hostname = strAt(ep, 'hostname');
    if (hostname) for (const m of isDNS1123Label(hostname)) errs.push(invalid(`${f}.hostname`, hostname, m));
    const nodeName = strAt(ep, 'nodeName');
    if (nodeName) for (const m of isDNS1123Subdomain(nodeName)) errs.push(invalid(`${f}.nodeName`, nodeName, m));
  });
  const ports = arrAt(obj, 'ports');
  if (ports.length > maxPorts) errs.push(tooMany('ports', ports.length, maxPorts));
  const names = new Set<string>();
  ports.forEach((p, i) => {
    const f = `ports[${i}]`;
    const name = strAt(p, 'name') ?? '';
    if (name) for (const m of isDNS1123Label(name)) errs.push(invalid(`${f}.name`, name, m));
    if (names.has(name)) errs.push(duplicate(`${f}.name`, name));
    names.add(name);
    const protocol = strAt(p, 'protocol');
    if (protocol === undefined) errs.push(required(`${f}.protocol`));
    else if (!protocols.includes(protocol)) errs.push(notSupported(`${f}.protocol`, protocol, protocols));
    const port = isObj(p) ? p.port : undefined;
    if (typeof port === 'number' && (port < 1 || port > 65535 || !Number.isInteger(port))) errs.push(invalid(`${f}.port`, port, 'must be between 1 and 65535, inclusive'));
  });
  return errs;
}

export function endpointSliceStrategy(): Strategy {
  return {
    default: defaultEndpointSlice,
    prepareForCreate(obj) {
      if (obj.metadata) obj.metadata.generation = 1;
    },
    prepareForUpdate(obj, old) {
      // Any change but metadata bumps the generation, as the EndpointSlice strategy does.
      const strip = (o: KubeObject): KubeObject => ({ ...o, metadata: undefined });
      const changed = JSON.stringify(strip(obj)) !== JSON.stringify(strip(old));
      if (obj.metadata) obj.metadata.generation = (old.metadata?.generation ?? 1) + (changed ? 1 : 0);
    },
    validate: (obj) => validateEndpointSlice(obj),
    validateUpdate: (obj, old) => [...validateEndpointSlice(obj), ...immutable(obj.addressType, old.addressType, 'addressType')],
  };
}
