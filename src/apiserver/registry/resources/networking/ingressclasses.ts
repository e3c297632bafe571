/**
 * networking.k8s.io IngressClass: a controller name (a domain-prefixed path, at most 250
 * characters, immutable) and optional parameters whose scope defaults to Cluster.
 */
import type { FieldError } from '../../../../machinery/status-error.js';
import { isDNS1123Label, isDNS1123Subdomain } from '../../../../machinery/name-validation.js';
import type { KubeObject, Strategy } from '../../strategy.js';
import { forbidden, immutable, invalid, isObj, notSupported, objAt, required, setDefault, strAt, tooLong } from '../group-checks.js';

const maxControllerLength = 250;
export const ingressClassDefaultAnnotation = 'ingressclass.kubernetes.io/is-default-class';

export function defaultIngressClass(obj: KubeObject): void {
  const params = objAt(obj.spec, 'parameters');
  if (params) setDefault(params, 'scope', 'Cluster');
}

/** `IsDomainPrefixedPath`: `example.com/path`. */
function domainPrefixedPathErrors(v: string): string[] {
  const slash = v.indexOf('/');
  if (slash < 0) return ['must be a domain-prefixed path (such as "acme.io/foo")'];
  const host = v.slice(0, slash);
  const path = v.slice(slash);
  const errs = isDNS1123Subdomain(host);
  if (!/^[A-Za-z0-9/\-._~%!$&'()*+,;=:]+$/.test(path)) errs.push(`Invalid path: must match the regex [A-Za-z0-9/\\-._~%!$&'()*+,;=:]+`);
  return errs;
}

export function validateIngressClass(obj: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  const spec = isObj(obj.spec) ? obj.spec : {};
  const controller = strAt(spec, 'controller') ?? '';
  if (!controller) errs.push(required('spec.controller'));
  else if (controller.length > maxControllerLength) errs.push(tooLong('spec.controller', maxControllerLength));
  else for (const m of domainPrefixedPathErrors(controller)) errs.push(invalid('spec.controller', controller, m));
  const params = objAt(spec, 'parameters');
  if (params) {
    if (!strAt(params, 'kind')) errs.push(required('spec.parameters.kind'));
    if (!strAt(params, 'name')) errs.push(required('spec.parameters.name'));
    const scope = strAt(params, 'scope') ?? '';
    const ns = strAt(params, 'namespace');
    if (!['Cluster', 'Namespace'].includes(scope)) errs.push(notSupported('spec.parameters.scope', scope, ['Cluster', 'Namespace']));
    if (scope === 'Namespace') {
      if (!ns) errs.push(required('spec.parameters.namespace', '`parameters.scope` is set to "Namespace"'));
      else for (const m of isDNS1123Label(ns)) errs.push(invalid('spec.parameters.namespace', ns, m));
    }
    if (scope === 'Cluster' && ns !== undefined) errs.push(forbidden('spec.parameters.namespace', '`parameters.scope` is set to "Cluster"'));
  }
  return errs;
}

export function ingressClassStrategy(): Strategy {
  return {
    default: defaultIngressClass,
    prepareForCreate(obj) {
      if (obj.metadata) obj.metadata.generation = 1;
    },
    prepareForUpdate(obj, old) {
      const changed = JSON.stringify(obj.spec) !== JSON.stringify(old.spec);
      if (obj.metadata) obj.metadata.generation = (old.metadata?.generation ?? 1) + (changed ? 1 : 0);
    },
    validate: (obj) => validateIngressClass(obj),
    validateUpdate: (obj, old) => [...validateIngressClass(obj), ...immutable(strAt(obj.spec, 'controller'), strAt(old.spec, 'controller'), 'spec.controller')],
  };
}
