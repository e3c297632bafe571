/**
 * apiextensions.k8s.io CustomResourceDefinition: defaults (singular, listKind, conversion None),
 * spec validation as `apiextensions/validation` (name `<plural>.<group>`, a dotted group, scope,
 * names, versions with exactly one storage version and a structural schema whose root is an
 * object) and status bookkeeping (`storedVersions` gains the storage version on every write;
 * conditions and acceptedNames are the CRD controller's).
 */
import type { FieldError } from '../../../../machinery/status-error.js';
import { isDNS1035Label, isDNS1123Subdomain } from '../../../../machinery/name-validation.js';
import type { KubeObject, Strategy } from '../../strategy.js';
import { deepEqual } from '../../../../machinery/json-value.js';
import {
  arrAt,
  child,
  duplicate,
  forbidden,
  immutable,
  invalid,
  invalidGo,
  isObj,
  notSupported,
  objAt,
  required,
  setDefault,
  strAt,
  type Obj,
} from '../group-checks.js';

const scopes = ['Cluster', 'Namespaced'];
const columnTypes = ['boolean', 'date', 'integer', 'number', 'string'];
const schemaTypes = ['array', 'boolean', 'integer', 'number', 'object', 'string'];

/** `SetDefaults_CustomResourceDefinition(Spec)` and `SetDefaults_ServiceReference`. */
export function defaultCustomResourceDefinition(obj: KubeObject): void {
  const spec = child(obj as Obj, 'spec');
  const names = child(spec, 'names');
  const kind = strAt(names, 'kind') ?? '';
  if (!strAt(names, 'singular')) names.singular = kind.toLowerCase();
  if (!strAt(names, 'listKind') && kind) names.listKind = `${kind}List`;
  const conversion = child(spec, 'conversion');
  setDefault(conversion, 'strategy', 'None');
  const service = objAt(objAt(objAt(conversion, 'webhook'), 'clientConfig'), 'service');
  if (service) setDefault(service, 'port', 443);
}

/** The name of the version marked `storage: true` (the first, if several). */
export function storageVersionOf(obj: KubeObject): string | undefined {
  for (const v of arrAt(obj.spec, 'versions')) if (isObj(v) && v.storage === true) return strAt(v, 'name');
  return undefined;
}

function addStoredVersion(obj: KubeObject): void {
  const storage = storageVersionOf(obj);
  if (!storage) return;
  const status = child(obj as Obj, 'status');
  const stored = Array.isArray(status.storedVersions) ? (status.storedVersions as unknown[]) : [];
  if (!stored.includes(storage)) status.storedVersions = [...stored, storage];
}

function dns1035(value: string, field: string, mixedCase = false): FieldError[] {
  const errs = isDNS1035Label(mixedCase ? value.toLowerCase() : value);
  if (!errs.length) return [];
  return [invalid(field, value, `${mixedCase ? 'may have mixed case, but should otherwise match: ' : ''}${errs.join(',')}`)];
}

function validateNames(names: Obj, field: string): FieldError[] {
  const errs: FieldError[] = [];
  const plural = strAt(names, 'plural') ?? '';
  const singular = strAt(names, 'singular') ?? '';
  const kind = strAt(names, 'kind') ?? '';
  const listKind = strAt(names, 'listKind') ?? '';
  if (plural) errs.push(...dns1035(plural, `${field}.plural`));
  if (singular) errs.push(...dns1035(singular, `${field}.singular`));
  arrAt(names, 'shortNames').forEach((s, i) => {
    if (typeof s === 'string') errs.push(...dns1035(s, `${field}.shortNames[${i}]`));
  });
  if (kind) errs.push(...dns1035(kind, `${field}.kind`, true));
  if (listKind) errs.push(...dns1035(listKind, `${field}.listKind`, true));
  if (kind && listKind && kind === listKind) errs.push(invalid(`${field}.listKind`, listKind, 'kind and listKind may not be the same'));
  arrAt(names, 'categories').forEach((c, i) => {
    if (typeof c === 'string') errs.push(...dns1035(c, `${field}.categories[${i}]`));
  });
  if (!plural) errs.push(required(`${field}.plural`));
  if (!singular) errs.push(required(`${field}.singular`));
  if (!kind) errs.push(required(`${field}.kind`));
  if (!listKind) errs.push(required(`${field}.listKind`));
  return errs;
}

/** Structural checks that matter to serving: every node typed, an object at the root. */
function validateSchemaNode(s: unknown, field: string, root: boolean): FieldError[] {
  if (!isObj(s)) return [];
  const errs: FieldError[] = [];
  const type = strAt(s, 'type') ?? '';
  const preserve = s['x-kubernetes-preserve-unknown-fields'] === true;
  const intOrString = s['x-kubernetes-int-or-string'] === true;
  if (root) {
    if (!type) errs.push(required(`${field}.type`, 'must not be empty at the root'));
    else if (type !== 'object') errs.push(invalid(`${field}.type`, type, 'must be object at the root'));
  } else if (!type && !preserve && !intOrString && !s.anyOf && !s.allOf && !s.oneOf && !s.not) {
    errs.push(required(`${field}.type`, 'must not be empty for specified object fields'));
  }
  if (type && !schemaTypes.includes(type)) errs.push(notSupported(`${field}.type`, type, schemaTypes));
  const props = objAt(s, 'properties');
  if (props) for (const [k, v] of Object.entries(props)) errs.push(...validateSchemaNode(v, `${field}.properties[${k}]`, false));
  const items = s.items;
  if (isObj(items)) errs.push(...validateSchemaNode(items, `${field}.items`, false));
  else if (type === 'array' && !preserve) errs.push(required(`${field}.items`, 'must be specified'));
  const additional = s.additionalProperties;
  if (isObj(additional)) {
    if (props) errs.push(forbidden(`${field}.additionalProperties`, 'additionalProperties and properties are mutual exclusive'));
    errs.push(...validateSchemaNode(additional, `${field}.additionalProperties`, false));
  }
  return errs;
}

function validateVersion(v: unknown, field: string): FieldError[] {
  const errs: FieldError[] = [];
  const name = strAt(v, 'name') ?? '';
  const nameErrs = isDNS1035Label(name);
  if (nameErrs.length) errs.push(invalid(`${field}.name`, name, nameErrs.join(',')));
  const schema = objAt(objAt(v, 'schema'), 'openAPIV3Schema');
  if (!schema) errs.push(required(`${field}.schema.openAPIV3Schema`, 'schemas are required'));
  else errs.push(...validateSchemaNode(schema, `${field}.schema.openAPIV3Schema`, true));
  arrAt(v, 'additionalPrinterColumns').forEach((c, i) => {
    const f = `${field}.additionalPrinterColumns[${i}]`;
    if (!strAt(c, 'name')) errs.push(required(`${f}.name`));
    const type = strAt(c, 'type') ?? '';
    if (!type) errs.push(required(`${f}.type`, `must be one of ${columnTypes.join(', ')}`));
    else if (!columnTypes.includes(type)) errs.push(notSupported(`${f}.type`, type, columnTypes));
    if (!strAt(c, 'jsonPath')) errs.push(required(`${f}.jsonPath`));
  });
  const scale = objAt(objAt(v, 'subresources'), 'scale');
  if (scale) {
    const specPath = strAt(scale, 'specReplicasPath') ?? '';
    const statusPath = strAt(scale, 'statusReplicasPath') ?? '';
    if (!specPath) errs.push(required(`${field}.subresources.scale.specReplicasPath`));
    else if (!specPath.startsWith('.spec.')) errs.push(invalid(`${field}.subresources.scale.specReplicasPath`, specPath, 'should be a json path under .spec'));
    if (!statusPath) errs.push(required(`${field}.subresources.scale.statusReplicasPath`));
    else if (!statusPath.startsWith('.status.')) errs.push(invalid(`${field}.subresources.scale.statusReplicasPath`, statusPath, 'should be a json path under .status'));
  }
  return errs;
}

export function validateCustomResourceDefinition(obj: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  const spec = isObj(obj.spec) ? obj.spec : {};
  const names = objAt(spec, 'names') ?? {};
  const group = strAt(spec, 'group') ?? '';
  const plural = strAt(names, 'plural') ?? '';
  const name = obj.metadata?.name ?? '';
  if (name !== `${plural}.${group}`) errs.push(invalid('metadata.name', name, 'must be spec.names.plural+"."+spec.group'));
  if (!group) errs.push(required('spec.group'));
  else {
    const groupErrs = isDNS1123Subdomain(group);
    if (groupErrs.length) errs.push(invalid('spec.group', group, groupErrs.join(',')));
    else if (group.split('.').length < 2) errs.push(invalid('spec.group', group, 'should be a domain with at least one dot'));
  }
  const scope = strAt(spec, 'scope') ?? '';
  if (!scope) errs.push(required('spec.scope'));
  else if (!scopes.includes(scope)) errs.push(notSupported('spec.scope', scope, scopes));
  const versions = arrAt(spec, 'versions');
  const storageCount = versions.filter((v) => isObj(v) && v.storage === true).length;
  if (versions.length === 0) errs.push(invalidGo('spec.versions', '[]apiextensions.CustomResourceDefinitionVersion(nil)', 'must have exactly one version marked as storage version'));
  else if (storageCount !== 1) errs.push(invalid('spec.versions', versions, 'must have exactly one version marked as storage version'));
  const seen = new Set<string>();
  versions.forEach((v, i) => {
    const n = strAt(v, 'name') ?? '';
    if (seen.has(n)) errs.push(duplicate(`spec.versions[${i}].name`, n));
    seen.add(n);
    errs.push(...validateVersion(v, `spec.versions[${i}]`));
  });
  errs.push(...validateNames(names, 'spec.names'));
  const strategy = strAt(objAt(spec, 'conversion'), 'strategy') ?? 'None';
  if (!['None', 'Webhook'].includes(strategy)) errs.push(notSupported('spec.conversion.strategy', strategy, ['None', 'Webhook']));
  if (strategy === 'Webhook') {
    const webhook = objAt(objAt(spec, 'conversion'), 'webhook');
    if (!webhook || !objAt(webhook, 'clientConfig')) errs.push(required('spec.conversion.webhook.clientConfig', 'required when strategy is set to Webhook'));
    if (webhook && arrAt(webhook, 'conversionReviewVersions').length === 0) errs.push(required('spec.conversion.webhook.conversionReviewVersions', 'must include at least one of v1, v1beta1'));
  } else if (objAt(objAt(spec, 'conversion'), 'webhook')) {
    errs.push(forbidden('spec.conversion.webhook', 'should not be set when strategy is not set to Webhook'));
  }
  return errs;
}

/** `ValidateCustomResourceDefinitionStoredVersions`. */
export function validateStoredVersions(obj: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  const stored = arrAt(obj.status, 'storedVersions');
  const specVersions = new Set(arrAt(obj.spec, 'versions').map((v) => strAt(v, 'name')));
  if (stored.length === 0) return [invalid('status.storedVersions', stored, 'must have at least one stored version')];
  stored.forEach((v, i) => {
    if (typeof v !== 'string' || !specVersions.has(v)) errs.push(invalid(`status.storedVersions[${i}]`, v, 'must appear in spec.versions'));
  });
  const storage = storageVersionOf(obj);
  if (storage && !stored.includes(storage)) errs.push(invalid('status.storedVersions', stored, `must have the storage version ${storage}`));
  return errs;
}

export function validateCustomResourceDefinitionUpdate(obj: KubeObject, old: KubeObject): FieldError[] {
  const errs = validateCustomResourceDefinition(obj);
  errs.push(...immutable(strAt(obj.spec, 'group'), strAt(old.spec, 'group'), 'spec.group'));
  errs.push(...immutable(strAt(objAt(obj.spec, 'names'), 'plural'), strAt(objAt(old.spec, 'names'), 'plural'), 'spec.names.plural'));
  errs.push(...immutable(strAt(obj.spec, 'scope'), strAt(old.spec, 'scope'), 'spec.scope'));
  errs.push(...validateStoredVersions(obj));
  return errs;
}

export function customResourceDefinitionStrategy(): Strategy {
  return {
    default: defaultCustomResourceDefinition,
    prepareForCreate(obj) {
      obj.status = { acceptedNames: { plural: '', kind: '' }, storedVersions: [] };
      addStoredVersion(obj);
      if (obj.metadata) obj.metadata.generation = 1;
    },
    prepareForUpdate(obj, old) {
      obj.status = structuredClone(old.status);
      if (obj.metadata) obj.metadata.generation = (old.metadata?.generation ?? 1) + (deepEqual(obj.spec, old.spec) ? 0 : 1);
      addStoredVersion(obj);
    },
    validate: (obj) => validateCustomResourceDefinition(obj),
    validateUpdate: (obj, old) => validateCustomResourceDefinitionUpdate(obj, old),
    status: {
      validateUpdate: (obj) => validateStoredVersions(obj),
    },
  };
}
