/**
 * Reading a CustomResourceDefinition (apiextensions.k8s.io/v1): its versions in Kubernetes'
 * priority order, per-version schema, subresources and columns, and the ResourceDescriptor the
 * API server serves it under.
 */

import type {
  CustomResourceColumnDefinition,
  CustomResourceDefinition,
  CustomResourceDefinitionNames,
  CustomResourceDefinitionVersion,
  CustomResourceSubresourceScale,
} from 'kubernetes-types/apiextensions/v1.js';
import type { ResourceDescriptor } from '../../api/resource-table.js';
import type { OpenAPISchema } from '../../machinery/openapi-schema.js';
import type { KubeObject } from '../registry/strategy.js';

export type { CustomResourceDefinition, CustomResourceDefinitionVersion, CustomResourceDefinitionNames, CustomResourceColumnDefinition, CustomResourceSubresourceScale };

export const CRD_GROUP = 'apiextensions.k8s.io';
export const CRD_RESOURCE = 'customresourcedefinitions';
/** Held on a CRD being deleted until all its custom resources are gone. */
export const CLEANUP_FINALIZER = 'customresourcecleanup.apiextensions.k8s.io';

/** A stored object read as a CRD (the store keeps plain JSON). */
export function asCRD(obj: KubeObject): CustomResourceDefinition {
  return obj as unknown as CustomResourceDefinition;
}

const kubeVersion = /^v(\d+)(?:(alpha|beta)(\d+))?$/;

/**
 * Kubernetes' version priority (`CompareKubeAwareVersionStrings`): GA before beta before alpha,
 * higher numbers first; versions not shaped like `v1beta2` come last, alphabetically.
 * Negative when `a` has the higher priority.
 */
export function compareVersionPriority(a: string, b: string): number {
  const ma = kubeVersion.exec(a);
  const mb = kubeVersion.exec(b);
  if (!ma && !mb) return a < b ? -1 : a > b ? 1 : 0;
  if (!ma) return 1;
  if (!mb) return -1;
  const rank = (m: RegExpExecArray): number => (m[2] === undefined ? 2 : m[2] === 'beta' ? 1 : 0);
  if (rank(ma) !== rank(mb)) return rank(mb) - rank(ma);
  const major = Number(mb[1]) - Number(ma[1]);
  if (major !== 0) return major;
  return Number(mb[3] ?? 0) - Number(ma[3] ?? 0);
}

/** Served versions, highest priority first (the first is the preferred version in discovery). */
export function servedVersions(crd: CustomResourceDefinition): string[] {
  return (crd.spec.versions ?? [])
    .filter((v) => v.served)
    .map((v) => v.name)
    .sort(compareVersionPriority);
}

export function storageVersion(crd: CustomResourceDefinition): string | undefined {
  return (crd.spec.versions ?? []).find((v) => v.storage)?.name;
}

export function versionOf(crd: CustomResourceDefinition, name: string): CustomResourceDefinitionVersion | undefined {
  return (crd.spec.versions ?? []).find((v) => v.name === name);
}

export function schemaOf(crd: CustomResourceDefinition, version: string): OpenAPISchema | undefined {
  return versionOf(crd, version)?.schema?.openAPIV3Schema as OpenAPISchema | undefined;
}

export function scaleOf(crd: CustomResourceDefinition, version: string): CustomResourceSubresourceScale | undefined {
  return versionOf(crd, version)?.subresources?.scale;
}

export function hasStatus(crd: CustomResourceDefinition, version: string): boolean {
  return !!versionOf(crd, version)?.subresources?.status;
}

export function columnsOf(crd: CustomResourceDefinition, version: string): CustomResourceColumnDefinition[] | undefined {
  return versionOf(crd, version)?.additionalPrinterColumns;
}

/** spec.names with the defaults Kubernetes fills: singular = lower-case kind, listKind = kind + List. */
export function requestedNames(crd: CustomResourceDefinition): Required<Pick<CustomResourceDefinitionNames, 'plural' | 'singular' | 'kind' | 'listKind'>> & CustomResourceDefinitionNames {
  const n = crd.spec.names;
  return { ...n, singular: n.singular || n.kind.toLowerCase(), listKind: n.listKind || `${n.kind}List` };
}

export function isNamespaced(crd: CustomResourceDefinition): boolean {
  return crd.spec.scope === 'Namespaced';
}

/** The resource as the API server serves it, from the accepted names. */
export function descriptorFor(crd: CustomResourceDefinition, names: CustomResourceDefinitionNames): ResourceDescriptor {
  const versions = servedVersions(crd);
  const subresources = new Set<string>();
  for (const v of crd.spec.versions ?? []) {
    if (!v.served) continue;
    if (v.subresources?.status) subresources.add('status');
    if (v.subresources?.scale) subresources.add('scale');
  }
  const descriptor: ResourceDescriptor = {
    group: crd.spec.group,
    versions,
    storageVersion: storageVersion(crd) ?? versions[0] ?? '',
    resource: names.plural,
    kind: names.kind,
    singular: names.singular || names.kind.toLowerCase(),
    namespaced: isNamespaced(crd),
  };
  if (names.shortNames?.length) descriptor.shortNames = [...names.shortNames];
  if (names.categories?.length) descriptor.categories = [...names.categories];
  if (subresources.size) descriptor.subresources = [...subresources].sort();
  return descriptor;
}

/** The version part of an object's apiVersion (`stable.example.com/v1` → `v1`). */
export function versionFromApiVersion(apiVersion: string | undefined): string {
  if (!apiVersion) return '';
  const i = apiVersion.lastIndexOf('/');
  return i < 0 ? apiVersion : apiVersion.slice(i + 1);
}
