/**
 * Printers for rbac.authorization.k8s.io. Bindings print ROLE AGE (wide USERS GROUPS
 * SERVICEACCOUNTS); roles have no printer in Kubernetes and get the default NAME / CREATED AT.
 */

import type { ClusterRoleBinding, RoleBinding, Subject } from 'kubernetes-types/rbac/v1.js';
import { translateTimestampSince } from './age.js';
import { ageColumn, column, definePrinter, defaultPrinter, nameColumn, type Printer } from './table.js';

/** `rbac.SubjectsStrings`: users, groups and `namespace/name` service accounts. */
export function subjectsStrings(subjects: readonly Subject[] | undefined): { users: string[]; groups: string[]; serviceAccounts: string[] } {
  const users: string[] = [];
  const groups: string[] = [];
  const serviceAccounts: string[] = [];
  for (const s of subjects ?? []) {
    if (s.kind === 'ServiceAccount') serviceAccounts.push(`${s.namespace ?? ''}/${s.name}`);
    else if (s.kind === 'User') users.push(s.name);
    else if (s.kind === 'Group') groups.push(s.name);
  }
  return { users, groups, serviceAccounts };
}

function bindingPrinter(what: string): Printer {
  return definePrinter<RoleBinding | ClusterRoleBinding>(
    [
      nameColumn(),
      column('Role', 'string', 'RoleRef can only reference a ClusterRole in the global namespace. If the RoleRef cannot be resolved, the Authorizer must return an error.'),
      ageColumn(),
      column('Users', 'string', `Users in the ${what}`, 1),
      column('Groups', 'string', `Groups in the ${what}`, 1),
      column('ServiceAccounts', 'string', `ServiceAccounts in the ${what}`, 1),
    ],
    (b, now) => {
      const { users, groups, serviceAccounts } = subjectsStrings(b.subjects);
      return [
        b.metadata?.name ?? '',
        `${b.roleRef?.kind ?? ''}/${b.roleRef?.name ?? ''}`,
        translateTimestampSince(b.metadata?.creationTimestamp, now),
        users.join(', '),
        groups.join(', '),
        serviceAccounts.join(', '),
      ];
    },
  );
}

export const printers: Record<string, Printer> = {
  'rbac.authorization.k8s.io/rolebindings': bindingPrinter('roleBinding'),
  'rbac.authorization.k8s.io/clusterrolebindings': bindingPrinter('clusterRoleBinding'),
  'rbac.authorization.k8s.io/roles': defaultPrinter,
  'rbac.authorization.k8s.io/clusterroles': defaultPrinter,
};
