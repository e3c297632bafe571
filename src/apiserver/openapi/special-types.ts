import type { OpenAPISchema, SchemaDefinitions } from '../../machinery/openapi-schema.js';

const META = 'io.k8s.apimachinery.pkg.apis.meta.v1';
const APIEXT = 'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1';

/**
 * The types Kubernetes publishes with hand-made schemas (they marshal to JSON in their own way),
 * keyed by the short name used in {@link SPECIAL_FIELD_TYPES}. The OpenAPI v3 form: v2
 * publication turns a `oneOf` of plain types into one `type` (see publish.ts).
 */
export const SPECIAL_DEFINITIONS: Readonly<Record<string, { name: string; schema: OpenAPISchema }>> = {
  Quantity: {
    name: 'io.k8s.apimachinery.pkg.api.resource.Quantity',
    schema: {
      description: 'Quantity is a fixed-point representation of a number, such as "100m", "1.5Gi" or "2". In JSON and YAML it is a string (a bare number is accepted on input); its canonical form is the shortest exact decimal or binary-SI notation.',
      oneOf: [{ type: 'string' }, { type: 'number' }],
    },
  },
  IntOrString: {
    name: 'io.k8s.apimachinery.pkg.util.intstr.IntOrString',
    schema: {
      description: 'IntOrString holds either an int32 or a string; in JSON and YAML it is whichever of the two was given, so a field can take a port number or a port name, a count or a percentage.',
      format: 'int-or-string',
      oneOf: [{ type: 'integer' }, { type: 'string' }],
      'x-kubernetes-int-or-string': true,
    },
  },
  Time: {
    name: `${META}.Time`,
    schema: {
      description: 'Time is a timestamp with a resolution of seconds, written in RFC 3339 form in UTC.',
      type: 'string',
      format: 'date-time',
    },
  },
  MicroTime: {
    name: `${META}.MicroTime`,
    schema: {
      description: 'MicroTime is a timestamp with a resolution of microseconds, written in RFC 3339 form with fractional seconds.',
      type: 'string',
      format: 'date-time',
    },
  },
  FieldsV1: {
    name: `${META}.FieldsV1`,
    schema: {
      description: 'FieldsV1 is the set of fields a manager owns, as a JSON trie: each key is "f:<name>", "k:<keys>", "v:<value>" or "i:<index>", and "." marks the node itself.',
      type: 'object',
    },
  },
  RawExtension: {
    name: 'io.k8s.apimachinery.pkg.runtime.RawExtension',
    schema: {
      description: 'RawExtension holds an embedded object of any kind, kept as raw JSON; it usually carries its own apiVersion and kind.',
      type: 'object',
    },
  },
  Patch: {
    name: `${META}.Patch`,
    schema: {
      description: 'Patch names the body of a PATCH request: a JSON patch, merge patch, strategic merge patch or apply configuration, as its content type says.',
      type: 'object',
    },
  },
  JSON: {
    name: `${APIEXT}.JSON`,
    schema: {
      description: 'JSON is any valid JSON value: a boolean, number, string, array, object or null.',
    },
  },
  JSONSchemaPropsOrArray: {
    name: `${APIEXT}.JSONSchemaPropsOrArray`,
    schema: { description: 'JSONSchemaPropsOrArray is either one JSONSchemaProps or an array of them.' },
  },
  JSONSchemaPropsOrBool: {
    name: `${APIEXT}.JSONSchemaPropsOrBool`,
    schema: { description: 'JSONSchemaPropsOrBool is either a JSONSchemaProps or a boolean; true means any schema is allowed.' },
  },
  JSONSchemaPropsOrStringArray: {
    name: `${APIEXT}.JSONSchemaPropsOrStringArray`,
    schema: { description: 'JSONSchemaPropsOrStringArray is either a JSONSchemaProps or an array of strings.' },
  },
  CustomResourceSubresourceStatus: {
    name: `${APIEXT}.CustomResourceSubresourceStatus`,
    schema: {
      description: 'CustomResourceSubresourceStatus enables the status subresource of a custom resource: PUT to /status changes only .status, and the main endpoint ignores changes to it.',
      type: 'object',
    },
  },
};

/**
 * Fields whose Go type is one of {@link SPECIAL_DEFINITIONS} but which client-node types as a
 * plain `string`, `any` or map of strings. Value: the special type's short name, prefixed with
 * `map:` or `array:` when the field is a map or list of it. Facts from the Go types of k8s.io/api.
 */
export const SPECIAL_FIELD_TYPES: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  'io.k8s.api.apps.v1.ControllerRevision': { data: 'RawExtension' },
  'io.k8s.api.autoscaling.v2.HPAScalingRules': { tolerance: 'Quantity' },
  'io.k8s.api.autoscaling.v2.MetricTarget': { averageValue: 'Quantity', value: 'Quantity' },
  'io.k8s.api.autoscaling.v2.MetricValueStatus': { averageValue: 'Quantity', value: 'Quantity' },
  'io.k8s.api.core.v1.ContainerStatus': { allocatedResources: 'map:Quantity' },
  'io.k8s.api.core.v1.EmptyDirVolumeSource': { sizeLimit: 'Quantity' },
  'io.k8s.api.core.v1.LimitRangeItem': { default: 'map:Quantity', defaultRequest: 'map:Quantity', max: 'map:Quantity', maxLimitRequestRatio: 'map:Quantity', min: 'map:Quantity' },
  'io.k8s.api.core.v1.NodeStatus': { allocatable: 'map:Quantity', capacity: 'map:Quantity' },
  'io.k8s.api.core.v1.PersistentVolumeClaimStatus': { allocatedResources: 'map:Quantity', capacity: 'map:Quantity' },
  'io.k8s.api.core.v1.PersistentVolumeSpec': { capacity: 'map:Quantity' },
  'io.k8s.api.core.v1.PodSpec': { overhead: 'map:Quantity' },
  'io.k8s.api.core.v1.PodStatus': { allocatedResources: 'map:Quantity' },
  'io.k8s.api.core.v1.ResourceFieldSelector': { divisor: 'Quantity' },
  'io.k8s.api.core.v1.ResourceQuotaSpec': { hard: 'map:Quantity' },
  'io.k8s.api.core.v1.ResourceQuotaStatus': { hard: 'map:Quantity', used: 'map:Quantity' },
  'io.k8s.api.core.v1.ResourceRequirements': { limits: 'map:Quantity', requests: 'map:Quantity' },
  'io.k8s.api.core.v1.VolumeResourceRequirements': { limits: 'map:Quantity', requests: 'map:Quantity' },
  'io.k8s.api.node.v1.Overhead': { podFixed: 'map:Quantity' },
  'io.k8s.api.resource.v1.AllocatedDeviceStatus': { data: 'RawExtension' },
  'io.k8s.api.resource.v1.CapacityRequestPolicy': { default: 'Quantity', validValues: 'array:Quantity' },
  'io.k8s.api.resource.v1.CapacityRequestPolicyRange': { max: 'Quantity', min: 'Quantity', step: 'Quantity' },
  'io.k8s.api.resource.v1.CapacityRequirements': { requests: 'map:Quantity' },
  'io.k8s.api.resource.v1.Counter': { value: 'Quantity' },
  'io.k8s.api.resource.v1.DeviceCapacity': { value: 'Quantity' },
  'io.k8s.api.resource.v1.DeviceRequestAllocationResult': { consumedCapacity: 'map:Quantity' },
  'io.k8s.api.resource.v1.OpaqueDeviceConfiguration': { parameters: 'RawExtension' },
  'io.k8s.api.storage.v1.CSIStorageCapacity': { capacity: 'Quantity', maximumVolumeSize: 'Quantity' },
  'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceSubresources': { status: 'CustomResourceSubresourceStatus' },
  'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaProps': { dependencies: 'map:JSONSchemaPropsOrStringArray', additionalItems: 'JSONSchemaPropsOrBool', additionalProperties: 'JSONSchemaPropsOrBool', default: 'JSON', enum: 'array:JSON', example: 'JSON', items: 'JSONSchemaPropsOrArray' },
  'io.k8s.apimachinery.pkg.apis.meta.v1.ManagedFieldsEntry': { fieldsV1: 'FieldsV1' },
  'io.k8s.apimachinery.pkg.apis.meta.v1.WatchEvent': { object: 'RawExtension' },
};

/** A `$ref` to one of the special definitions, wrapped as `map:` / `array:` say. */
export function specialFieldSchema(spec: string): OpenAPISchema | undefined {
  const [shape, short] = spec.includes(':') ? spec.split(':') as [string, string] : ['', spec];
  const def = SPECIAL_DEFINITIONS[short];
  if (!def) return undefined;
  const ref: OpenAPISchema = { $ref: `#/definitions/${def.name}` };
  if (shape === 'map') return { type: 'object', additionalProperties: ref };
  if (shape === 'array') return { type: 'array', items: ref };
  return ref;
}

/** Adds every special definition to `defs`. */
export function addSpecialDefinitions(defs: SchemaDefinitions): void {
  for (const { name, schema } of Object.values(SPECIAL_DEFINITIONS)) defs[name] = structuredClone(schema);
}
