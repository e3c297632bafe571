/**
 * networking.k8s.io Ingress: rules or a default backend; hosts are DNS names (wildcards allowed
 * as the first label), paths need a pathType and Exact/Prefix paths must be absolute and clean;
 * each backend is a service (name + port name or number) or a resource, never both.
 */
import { isIP } from 'node:net';
import type { FieldError } from '../../../../machinery/status-error.js';
import { isDNS1035Label, isDNS1123Subdomain } from '../../../../machinery/name-validation.js';
import { specStatusStrategy, type KubeObject, type Strategy } from '../../strategy.js';
import { arrAt, invalid, invalidGo, isObj, notSupported, objAt, required, strAt } from '../group-checks.js';

export const ingressClassAnnotation = 'kubernetes.io/ingress.class';
const pathTypes = ['Exact', 'ImplementationSpecific', 'Prefix'];
const invalidPathSequences = ['//', '/./', '/../', '%2f', '%2F'];
const invalidPathSuffixes = ['/..', '/.'];

function portNameErrors(name: string): string[] {
  const errs: string[] = [];
  if (name.length > 15) errs.push('must be no more than 15 characters');
  if (!/^[-a-z0-9]+$/.test(name)) errs.push("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)");
  if (name.includes('--')) errs.push("must not contain consecutive hyphens");
  if (/^-|-$/.test(name)) errs.push("must not begin or end with a hyphen");
  if (/^[-0-9]+$/.test(name) && !/[a-z]/.test(name)) errs.push('must contain at least one letter (a-z)');
  return errs;
}

/** `IsWildcardDNS1123Subdomain` plus the plain form. */
function hostErrors(host: string): string[] {
  if (host.startsWith('*.')) {
    const rest = host.slice(2);
    const errs = isDNS1123Subdomain(rest).length ? ["a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, which must consist of lower case alphanumeric characters, '-' or '.' and end with an alphanumeric character (e.g. '*.example.com', regex used for validation is '\\*\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"] : [];
    return errs;
  }
  return isDNS1123Subdomain(host);
}

export function validateIngressBackend(backend: unknown, field: string): FieldError[] {
  const errs: FieldError[] = [];
  const service = objAt(backend, 'service');
  const resource = objAt(backend, 'resource');
  if (service && resource) return [invalid(field, '', 'cannot set both resource and service backends')];
  if (resource) {
    if (!strAt(resource, 'kind')) errs.push(required(`${field}.resource.kind`));
    if (!strAt(resource, 'name')) errs.push(required(`${field}.resource.name`));
    return errs;
  }
  if (!service) return [invalid(field, '', 'resource or service backend is required')];
  const name = strAt(service, 'name') ?? '';
  if (!name) errs.push(required(`${field}.service.name`));
  else for (const m of isDNS1035Label(name)) errs.push(invalid(`${field}.service.name`, name, m));
  const port = objAt(service, 'port') ?? {};
  const portName = strAt(port, 'name') ?? '';
  const portNumber = typeof port.number === 'number' ? port.number : 0;
  if (portName && portNumber) errs.push(invalid(`${field}.service.port`, '', 'cannot set both port name & port number'));
  else if (portName) for (const m of portNameErrors(portName)) errs.push(invalid(`${field}.service.port.name`, portName, m));
  else if (portNumber) {
    if (portNumber < 1 || portNumber > 65535) errs.push(invalid(`${field}.service.port.number`, portNumber, 'must be between 1 and 65535, inclusive'));
  } else errs.push(required(`${field}.service.port`, 'port name or number is required'));
  return errs;
}

function validatePath(p: unknown, field: string): FieldError[] {
  const errs: FieldError[] = [];
  const path = strAt(p, 'path') ?? '';
  const type = strAt(p, 'pathType');
  if (type === undefined) {
    errs.push(required(`${field}.pathType`, 'pathType must be specified'));
  } else if (!pathTypes.includes(type)) {
    errs.push(notSupported(`${field}.pathType`, type, pathTypes));
  } else if (type === 'Exact' || type === 'Prefix') {
    if (!path.startsWith('/')) errs.push(invalid(`${field}.path`, path, 'must be an absolute path'));
    for (const seq of invalidPathSequences) if (path.includes(seq)) errs.push(invalid(`${field}.path`, path, `must not contain '${seq}'`));
    for (const suf of invalidPathSuffixes) if (path.endsWith(suf)) errs.push(invalid(`${field}.path`, path, `cannot end with '${suf}'`));
  } else if (path.length > 0 && !path.startsWith('/')) {
    errs.push(invalid(`${field}.path`, path, 'must be an absolute path'));
  }
  errs.push(...validateIngressBackend(isObj(p) ? p.backend : undefined, `${field}.backend`));
  return errs;
}

export function validateIngress(obj: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  const spec = isObj(obj.spec) ? obj.spec : {};
  const rules = arrAt(spec, 'rules');
  if (rules.length === 0 && spec.defaultBackend === undefined) {
    errs.push(invalidGo('spec', '[]networking.IngressRule(nil)', 'either `defaultBackend` or `rules` must be specified'));
  }
  if (spec.defaultBackend !== undefined) errs.push(...validateIngressBackend(spec.defaultBackend, 'spec.defaultBackend'));
  rules.forEach((r, i) => {
    const f = `spec.rules[${i}]`;
    const host = strAt(r, 'host') ?? '';
    if (host) {
      if (isIP(host)) errs.push(invalid(`${f}.host`, host, 'must be a DNS name, not an IP address'));
      else for (const m of hostErrors(host)) errs.push(invalid(`${f}.host`, host, m));
    }
    const http = objAt(r, 'http');
    if (http) {
      const paths = arrAt(http, 'paths');
      if (paths.length === 0) errs.push(required(`${f}.http.paths`));
      paths.forEach((p, j) => errs.push(...validatePath(p, `${f}.http.paths[${j}]`)));
    }
  });
  arrAt(spec, 'tls').forEach((t, i) => {
    arrAt(t, 'hosts').forEach((h, j) => {
      if (typeof h === 'string') for (const m of hostErrors(h)) errs.push(invalid(`spec.tls[${i}].hosts[${j}]`, h, m));
    });
    const secret = strAt(t, 'secretName');
    if (secret) for (const m of isDNS1123Subdomain(secret)) errs.push(invalid(`spec.tls[${i}].secretName`, secret, m));
  });
  const className = strAt(spec, 'ingressClassName');
  if (className !== undefined) for (const m of isDNS1123Subdomain(className)) errs.push(invalid('spec.ingressClassName', className, m));
  const annotation = obj.metadata?.annotations?.[ingressClassAnnotation];
  if (annotation !== undefined && className !== undefined && annotation !== className) {
    errs.push(invalid(`annotations.${ingressClassAnnotation}`, annotation, 'must match `ingressClassName` when both are specified'));
  }
  return errs;
}

function validateStatus(obj: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  arrAt(objAt(objAt(obj, 'status'), 'loadBalancer'), 'ingress').forEach((ing, i) => {
    const ip = strAt(ing, 'ip');
    if (ip && !isIP(ip)) errs.push(invalid(`status.loadBalancer.ingress[${i}].ip`, ip, 'must be a valid IP address'));
    const hostname = strAt(ing, 'hostname');
    if (hostname) {
      for (const m of isDNS1123Subdomain(hostname)) errs.push(invalid(`status.loadBalancer.ingress[${i}].hostname`, hostname, m));
      if (isIP(hostname)) errs.push(invalid(`status.loadBalancer.ingress[${i}].hostname`, hostname, 'must be a DNS name, not an IP address'));
    }
  });
  return errs;
}

export function ingressStrategy(): Strategy {
  return specStatusStrategy({
    validate: (obj) => validateIngress(obj),
    validateUpdate: (obj) => validateIngress(obj),
    status: { validateUpdate: (obj) => validateStatus(obj) },
  });
}
