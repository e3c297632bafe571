/**
 * rbac.authorization.k8s.io RoleBinding: roleRef (Role or ClusterRole of the RBAC group) and
 * subjects (ServiceAccount, User, Group) as `pkg/apis/rbac/validation`; roleRef cannot change.
 */
import type { FieldError } from '../../../../machinery/status-error.js';
import { isDNS1123Subdomain } from '../../../../machinery/name-validation.js';
import type { KubeObject, Strategy } from '../../strategy.js';
import { deepEqual } from '../../../../machinery/json-value.js';
import { arrAt, child, invalid, invalidGo, isObj, notSupported, objAt, required, strAt, type Obj } from '../group-checks.js';

export const rbacGroup = 'rbac.authorization.k8s.io';

function pathSegmentErrors(v: string): string[] {
  if (v === '.' || v === '..') return [`may not be '${v}'`];
  const errs: string[] = [];
  for (const bad of ['/', '%']) if (v.includes(bad)) errs.push(`may not contain '${bad}'`);
  return errs;
}

/** `SetDefaults_RoleBinding`/`SetDefaults_Subject`: the RBAC group where it is implied. */
export function defaultBinding(obj: KubeObject): void {
  const roleRef = child(obj as Obj, 'roleRef');
  if (!roleRef.apiGroup) roleRef.apiGroup = rbacGroup;
  for (const s of arrAt(obj, 'subjects')) {
    if (!isObj(s) || s.apiGroup) continue;
    if (s.kind === 'User' || s.kind === 'Group') s.apiGroup = rbacGroup;
    else if (s.kind === 'ServiceAccount') s.apiGroup = '';
  }
}

/** `ValidateRoleBindingSubject`. */
export function validateSubject(s: unknown, namespaced: boolean, field: string): FieldError[] {
  const errs: FieldError[] = [];
  const name = strAt(s, 'name') ?? '';
  const kind = strAt(s, 'kind') ?? '';
  const apiGroup = strAt(s, 'apiGroup') ?? '';
  if (!name) errs.push(required(`${field}.name`));
  switch (kind) {
    case 'ServiceAccount':
      if (name) for (const msg of isDNS1123Subdomain(name)) errs.push(invalid(`${field}.name`, name, msg));
      if (apiGroup !== '') errs.push(notSupported(`${field}.apiGroup`, apiGroup, ['']));
      if (!namespaced && !strAt(s, 'namespace')) errs.push(required(`${field}.namespace`));
      break;
    case 'User':
    case 'Group':
      if (apiGroup !== rbacGroup) errs.push(notSupported(`${field}.apiGroup`, apiGroup, [rbacGroup]));
      break;
    default:
      errs.push(notSupported(`${field}.kind`, kind, ['ServiceAccount', 'User', 'Group']));
  }
  return errs;
}

/** roleRef and subjects of a RoleBinding (`namespaced`) or ClusterRoleBinding. */
export function validateBinding(obj: KubeObject, namespaced: boolean): FieldError[] {
  const errs: FieldError[] = [];
  const roleRef = objAt(obj, 'roleRef') ?? {};
  const apiGroup = strAt(roleRef, 'apiGroup') ?? '';
  const kind = strAt(roleRef, 'kind') ?? '';
  const name = strAt(roleRef, 'name') ?? '';
  if (apiGroup !== rbacGroup) errs.push(notSupported('roleRef.apiGroup', apiGroup, [rbacGroup]));
  const kinds = namespaced ? ['Role', 'ClusterRole'] : ['ClusterRole'];
  if (!kinds.includes(kind)) errs.push(notSupported('roleRef.kind', kind, kinds));
  if (!name) errs.push(required('roleRef.name'));
  else for (const msg of pathSegmentErrors(name)) errs.push(invalid('roleRef.name', name, msg));
  arrAt(obj, 'subjects').forEach((s, i) => errs.push(...validateSubject(s, namespaced, `subjects[${i}]`)));
  return errs;
}

/** `roleRef: Invalid value: rbac.RoleRef{...}: cannot change roleRef`. */
export function roleRefUnchanged(obj: KubeObject, old: KubeObject): FieldError[] {
  const n = objAt(obj, 'roleRef') ?? {};
  if (deepEqual(n, objAt(old, 'roleRef') ?? {})) return [];
  const rendered = `rbac.RoleRef{APIGroup:${JSON.stringify(strAt(n, 'apiGroup') ?? '')}, Kind:${JSON.stringify(strAt(n, 'kind') ?? '')}, Name:${JSON.stringify(strAt(n, 'name') ?? '')}}`;
  return [invalidGo('roleRef', rendered, 'cannot change roleRef')];
}

export function roleBindingStrategy(): Strategy {
  return {
    nameValidation: 'path',
    default: defaultBinding,
    validate: (obj) => validateBinding(obj, true),
    validateUpdate: (obj, old) => [...validateBinding(obj, true), ...roleRefUnchanged(obj, old)],
  };
}
