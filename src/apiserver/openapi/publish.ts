/**
 * Publication of the API's OpenAPI documents, as kube-apiserver serves them:
 * `/openapi/v2` (swagger 2.0 as JSON, or gnostic protobuf), `/openapi/v3` (an index of
 * group-versions whose URLs carry a content hash) and `/openapi/v3/<api/v1|apis/G/V>`.
 *
 * kubectl relies on these: `explain` and client-side `apply` read the schemas; `--validate`
 * decides that the server does field validation itself when the PATCH operations of a kind list
 * a `fieldValidation` query parameter.
 *
 * Documents are built lazily on first request and cached with their ETag (upper-case hex SHA-512
 * of the JSON, as kube-openapi does) until {@link OpenAPIPublisher.invalidate}.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import type { OpenAPISchema, SchemaDefinitions } from '../../machinery/openapi-schema.js';
import { DEFINITIONS_FILE, generateDefinitions } from './generate-definitions.js';
import { encodeOpenAPIv2 } from './protobuf.js';

/** One resource the API server serves (the server owns the table). */
export interface ServedResource {
  group: string;
  version: string;
  /** Plural, lower-case: `deployments`. */
  resource: string;
  kind: string;
  namespaced: boolean;
  /** `get`, `list`, `watch`, `create`, `update`, `patch`, `delete`, `deletecollection`. */
  verbs: readonly string[];
  /** `status`, `scale`, `log`, `exec`, `attach`, `portforward`, `proxy`, `binding`, `eviction`, `token`, … */
  subresources: readonly string[];
}

/** The schema of one served version of a CustomResourceDefinition. */
export interface CustomResourceSchema {
  group: string;
  version: string;
  kind: string;
  /** Defaults to `<kind>List`. */
  listKind?: string;
  /** The version's `openAPIV3Schema`. */
  schema: OpenAPISchema;
}

/** A response the HTTP layer writes as is. */
export interface OpenAPIResponse {
  status: number;
  headers: Record<string, string>;
  body?: Uint8Array;
}

/** What {@link OpenAPIPublisher.handle} needs of a request. */
export interface OpenAPIRequest {
  /** URL path without the query: `/openapi/v3/apis/apps/v1`. */
  path: string;
  query?: URLSearchParams;
  accept?: string;
  ifNoneMatch?: string;
}

/** Options of {@link OpenAPIPublisher}. */
export interface OpenAPIPublisherOptions {
  /** The built-in definitions (see {@link loadDefinitions}). */
  definitions: SchemaDefinitions;
  /** The served resources; called on each rebuild, so it may change (call `invalidate()`). */
  resources: () => readonly ServedResource[];
  /** `info.version` of the documents, e.g. `v1.32.0`. */
  version?: string;
  /** Clock for `Expires`/`Last-Modified` (injectable for tests). */
  now?: () => Date;
}

/**
 * Reads the definitions file written by generate-definitions.ts (call once at start). When the
 * file is missing (a development tree that was never generated) it builds them from
 * `@kubernetes/client-node` instead, which takes about 60 ms.
 */
export function loadDefinitions(file: string = DEFINITIONS_FILE): SchemaDefinitions {
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as SchemaDefinitions;
  return generateDefinitions().definitions;
}

export const PROTOBUF_V2_TYPE = 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type JsonObject = { [k: string]: Json };
interface GVK {
  group: string;
  version: string;
  kind: string;
}

const META = 'io.k8s.apimachinery.pkg.apis.meta.v1';
const STATUS = `${META}.Status`;
const WATCH_EVENT = `${META}.WatchEvent`;
const DELETE_OPTIONS = `${META}.DeleteOptions`;
const PATCH = `${META}.Patch`;

const PRODUCES = ['application/json', 'application/yaml', 'application/vnd.kubernetes.protobuf'];
const PRODUCES_LIST = [...PRODUCES, 'application/json;stream=watch', 'application/vnd.kubernetes.protobuf;stream=watch'];
const PRODUCES_WATCH = ['application/json', 'application/yaml', 'application/vnd.kubernetes.protobuf', 'application/json;stream=watch', 'application/vnd.kubernetes.protobuf;stream=watch'];
const PATCH_TYPES = ['application/json-patch+json', 'application/merge-patch+json', 'application/strategic-merge-patch+json', 'application/apply-patch+yaml'];

/** The kinds that subresources of other kinds carry. */
const SUBRESOURCE_KINDS: Readonly<Record<string, GVK>> = {
  scale: { group: 'autoscaling', version: 'v1', kind: 'Scale' },
  eviction: { group: 'policy', version: 'v1', kind: 'Eviction' },
  binding: { group: '', version: 'v1', kind: 'Binding' },
  token: { group: 'authentication.k8s.io', version: 'v1', kind: 'TokenRequest' },
};

/** Subresources that are `connect` actions, with their options kind. */
const CONNECT_SUBRESOURCES: Readonly<Record<string, { methods: readonly string[]; kind: (parent: string) => string }>> = {
  exec: { methods: ['get', 'post'], kind: () => 'PodExecOptions' },
  attach: { methods: ['get', 'post'], kind: () => 'PodAttachOptions' },
  portforward: { methods: ['get', 'post'], kind: () => 'PodPortForwardOptions' },
  proxy: { methods: ['get', 'put', 'post', 'patch', 'delete', 'options', 'head'], kind: (parent) => `${parent}ProxyOptions` },
};

/** A parameter, before rendering for v2 or v3. */
interface Param {
  name: string;
  in: 'query' | 'path' | 'body';
  description: string;
  type?: 'string' | 'boolean' | 'integer';
  required?: boolean;
  schemaRef?: string;
}

const q = (name: string, type: Param['type'], description: string): Param => ({ name, in: 'query', type, description });
const P = {
  pretty: q('pretty', 'string', "If 'true', then the output is pretty printed."),
  dryRun: q('dryRun', 'string', 'When present, indicates that modifications should not be persisted. The only valid value is "All": the request is fully processed, but nothing is stored.'),
  fieldManager: q('fieldManager', 'string', 'A name for the actor making these changes, recorded in managedFields. At most 128 printable characters.'),
  fieldValidation: q('fieldValidation', 'string', 'What to do with unknown or duplicate fields in the request body: "Ignore" drops them, "Warn" drops them and returns a warning for each, "Strict" fails the request.'),
  force: q('force', 'boolean', 'Force an apply request to take fields owned by other managers. Must be unset for requests that are not apply patches.'),
  allowWatchBookmarks: q('allowWatchBookmarks', 'boolean', 'Ask for watch events of type "BOOKMARK"; servers may ignore it.'),
  continue: q('continue', 'string', 'The continue token of a previous list call whose results were cut short by limit.'),
  fieldSelector: q('fieldSelector', 'string', 'Restrict the returned objects by their fields. Defaults to everything.'),
  labelSelector: q('labelSelector', 'string', 'Restrict the returned objects by their labels. Defaults to everything.'),
  limit: q('limit', 'integer', 'The most items to return in one list response; a continue token in the response gives the rest.'),
  resourceVersion: q('resourceVersion', 'string', 'Constrains which resource versions the request may be served from.'),
  resourceVersionMatch: q('resourceVersionMatch', 'string', 'How resourceVersion applies to list calls: "Exact" or "NotOlderThan".'),
  sendInitialEvents: q('sendInitialEvents', 'boolean', 'With watch=true, begin the watch with synthetic events for the current state, then a bookmark.'),
  timeoutSeconds: q('timeoutSeconds', 'integer', 'Timeout for the list or watch call, regardless of activity.'),
  watch: q('watch', 'boolean', 'Watch for changes to the described resources and return them as a stream of add, update and remove notifications.'),
  gracePeriodSeconds: q('gracePeriodSeconds', 'integer', 'Seconds before the object is deleted; zero means immediately. Defaults to the kind\'s own default.'),
  ignoreStoreReadErrorWithClusterBreakingPotential: q('ignoreStoreReadErrorWithClusterBreakingPotential', 'boolean', 'Delete objects that cannot be read from storage (corrupt or undecryptable). Dangerous.'),
  orphanDependents: q('orphanDependents', 'boolean', 'Deprecated: use propagationPolicy. Whether dependents are orphaned.'),
  propagationPolicy: q('propagationPolicy', 'string', 'Whether and how garbage collection is performed: "Orphan", "Background" or "Foreground".'),
};
const LIST_PARAMS = [P.allowWatchBookmarks, P.continue, P.fieldSelector, P.labelSelector, P.limit, P.resourceVersion, P.resourceVersionMatch, P.sendInitialEvents, P.timeoutSeconds, P.watch];
const WRITE_PARAMS = [P.dryRun, P.fieldManager, P.fieldValidation];
const DELETE_PARAMS = [P.dryRun, P.gracePeriodSeconds, P.ignoreStoreReadErrorWithClusterBreakingPotential, P.orphanDependents, P.propagationPolicy];
const LOG_PARAMS = [
  q('container', 'string', 'The container for which to stream logs. Defaults to the only container if there is one.'),
  q('follow', 'boolean', 'Follow the log stream of the pod.'),
  q('insecureSkipTLSVerifyBackend', 'boolean', 'Do not verify the serving certificate of the kubelet that serves the logs.'),
  q('limitBytes', 'integer', 'The most bytes of log to return.'),
  q('previous', 'boolean', 'Return the logs of the previous, terminated container.'),
  q('sinceSeconds', 'integer', 'Only logs newer than this many seconds.'),
  q('stream', 'string', 'Which stream to return: "All", "Stdout" or "Stderr".'),
  q('tailLines', 'integer', 'The number of lines from the end of the logs to show.'),
  q('timestamps', 'boolean', 'Prefix every line with an RFC 3339 timestamp.'),
];
const EXEC_PARAMS = [
  q('command', 'string', 'The command to run, one argument per parameter.'),
  q('container', 'string', 'The container in which to run the command.'),
  q('stderr', 'boolean', 'Redirect the standard error stream.'),
  q('stdin', 'boolean', 'Redirect the standard input stream.'),
  q('stdout', 'boolean', 'Redirect the standard output stream.'),
  q('tty', 'boolean', 'Allocate a terminal.'),
];
const CONNECT_PARAMS: Readonly<Record<string, Param[]>> = {
  exec: EXEC_PARAMS,
  attach: EXEC_PARAMS.filter((p) => p.name !== 'command'),
  portforward: [q('ports', 'integer', 'The ports to forward.')],
  proxy: [q('path', 'string', 'The path of the request to send on.')],
};
const body = (ref: string, required = true): Param => ({ name: 'body', in: 'body', description: '', required, schemaRef: ref });
const pathParam = (name: string, description: string): Param => ({ name, in: 'path', type: 'string', required: true, description });

/** One operation, before rendering. */
interface Op {
  method: 'get' | 'put' | 'post' | 'patch' | 'delete' | 'options' | 'head';
  operationId: string;
  description: string;
  action: string;
  gvk: GVK;
  params: Param[];
  /** status code → definition name (undefined: no body; 'string': a string). */
  responses: Array<[string, string | undefined]>;
  produces: string[];
  consumes: string[];
  tag: string;
}

interface PathSpec {
  path: string;
  params: Param[];
  ops: Op[];
}

/** A group-version's path in URLs and in the v3 index: `api/v1`, `apis/apps/v1`. */
export function groupVersionPath(group: string, version: string): string {
  return group === '' ? `api/${version}` : `apis/${group}/${version}`;
}

const camel = (s: string): string => s.replace(/[.-]([a-z])/g, (_, c: string) => c.toUpperCase());
const upperFirst = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);

/** `core_v1`, `apps_v1`, `rbacAuthorization_v1` (Kubernetes' tags drop `.k8s.io`). */
function tagOf(group: string, version: string): string {
  const g = group === '' ? 'core' : camel(group.replace(/\.k8s\.io$/, ''));
  return `${g}_${version}`;
}

function opGroupOf(group: string, version: string): string {
  const g = group === '' ? 'Core' : upperFirst(camel(group.replace(/\.k8s\.io$/, '')));
  return `${g}${upperFirst(version)}`;
}

/** The definition name of a CRD's kind: group reversed, then version and kind (`com.example.stable.v1.CronTab`). */
export function customResourceDefinitionName(group: string, version: string, kind: string): string {
  return `${group.split('.').reverse().join('.')}.${version}.${kind}`;
}

function pathsOf(r: ServedResource, defOf: (gvk: GVK) => string | undefined): PathSpec[] {
  const gv = `/${groupVersionPath(r.group, r.version)}`;
  const tag = tagOf(r.group, r.version);
  const opg = opGroupOf(r.group, r.version);
  const gvk: GVK = { group: r.group, version: r.version, kind: r.kind };
  const listGvk: GVK = { ...gvk, kind: `${r.kind}List` };
  const self = defOf(gvk);
  const list = defOf(listGvk);
  const ns = r.namespaced ? '/namespaces/{namespace}' : '';
  const nsWord = r.namespaced ? 'Namespaced' : '';
  const nsParam = r.namespaced ? [pathParam('namespace', 'object name and auth scope, such as for teams and projects')] : [];
  const nameParam = pathParam('name', `name of the ${r.kind}`);
  const has = (v: string): boolean => r.verbs.includes(v);
  const mk = (o: Omit<Op, 'tag' | 'produces' | 'consumes'> & Partial<Pick<Op, 'produces' | 'consumes'>>): Op => ({
    tag,
    produces: PRODUCES,
    consumes: ['*/*'],
    ...o,
  });
  const paths: PathSpec[] = [];

  const collection: Op[] = [];
  if (has('list')) {
    collection.push(mk({ method: 'get', operationId: `list${opg}${nsWord}${r.kind}`, description: `list or watch objects of kind ${r.kind}`, action: 'list', gvk, params: LIST_PARAMS, responses: [['200', list], ['401', undefined]], produces: PRODUCES_LIST }));
  }
  if (has('create')) {
    collection.push(mk({ method: 'post', operationId: `create${opg}${nsWord}${r.kind}`, description: `create a ${r.kind}`, action: 'post', gvk, params: [body(self ?? ''), ...WRITE_PARAMS], responses: [['200', self], ['201', self], ['202', self], ['401', undefined]] }));
  }
  if (has('deletecollection')) {
    collection.push(mk({ method: 'delete', operationId: `delete${opg}Collection${nsWord}${r.kind}`, description: `delete collection of ${r.kind}`, action: 'deletecollection', gvk, params: [body(DELETE_OPTIONS, false), ...LIST_PARAMS.filter((p) => p.name !== 'watch' && p.name !== 'allowWatchBookmarks'), ...DELETE_PARAMS], responses: [['200', STATUS], ['401', undefined]] }));
  }
  if (collection.length) paths.push({ path: `${gv}${ns}/${r.resource}`, params: [...nsParam, P.pretty], ops: collection });
  if (r.namespaced && has('list')) {
    paths.push({ path: `${gv}/${r.resource}`, params: [...LIST_PARAMS, P.pretty], ops: [mk({ method: 'get', operationId: `list${opg}${r.kind}ForAllNamespaces`, description: `list or watch objects of kind ${r.kind}`, action: 'list', gvk, params: [], responses: [['200', list], ['401', undefined]], produces: PRODUCES_LIST })] });
  }

  const item: Op[] = [];
  if (has('get')) item.push(mk({ method: 'get', operationId: `read${opg}${nsWord}${r.kind}`, description: `read the specified ${r.kind}`, action: 'get', gvk, params: [], responses: [['200', self], ['401', undefined]] }));
  if (has('update')) item.push(mk({ method: 'put', operationId: `replace${opg}${nsWord}${r.kind}`, description: `replace the specified ${r.kind}`, action: 'put', gvk, params: [body(self ?? ''), ...WRITE_PARAMS], responses: [['200', self], ['201', self], ['401', undefined]] }));
  if (has('patch')) item.push(mk({ method: 'patch', operationId: `patch${opg}${nsWord}${r.kind}`, description: `partially update the specified ${r.kind}`, action: 'patch', gvk, params: [body(PATCH), ...WRITE_PARAMS, P.force], responses: [['200', self], ['201', self], ['401', undefined]], consumes: PATCH_TYPES }));
  if (has('delete')) item.push(mk({ method: 'delete', operationId: `delete${opg}${nsWord}${r.kind}`, description: `delete a ${r.kind}`, action: 'delete', gvk, params: [body(DELETE_OPTIONS, false), ...DELETE_PARAMS], responses: [['200', self ?? STATUS], ['202', self ?? STATUS], ['401', undefined]] }));
  if (item.length) paths.push({ path: `${gv}${ns}/${r.resource}/{name}`, params: [nameParam, ...nsParam, P.pretty], ops: item });

  if (has('watch')) {
    const watchOp = (operationId: string, action: string, description: string): Op =>
      mk({ method: 'get', operationId, description, action, gvk, params: [], responses: [['200', WATCH_EVENT], ['401', undefined]], produces: PRODUCES_WATCH });
    const deprecated = "deprecated: use the 'watch' parameter with a list operation instead";
    paths.push({ path: `${gv}/watch${ns}/${r.resource}`, params: [...LIST_PARAMS, ...nsParam, P.pretty], ops: [watchOp(`watch${opg}${nsWord}${r.kind}List`, 'watchlist', `watch individual changes to a list of ${r.kind}. ${deprecated}.`)] });
    paths.push({ path: `${gv}/watch${ns}/${r.resource}/{name}`, params: [...LIST_PARAMS, nameParam, ...nsParam, P.pretty], ops: [watchOp(`watch${opg}${nsWord}${r.kind}`, 'watch', `watch changes to an object of kind ${r.kind}. ${deprecated}, filtered to a single item with the 'fieldSelector' parameter.`)] });
    if (r.namespaced) {
      paths.push({ path: `${gv}/watch/${r.resource}`, params: [...LIST_PARAMS, P.pretty], ops: [watchOp(`watch${opg}${r.kind}ListForAllNamespaces`, 'watchlist', `watch individual changes to a list of ${r.kind}. ${deprecated}.`)] });
    }
  }

  for (const sub of r.subresources) {
    const subWord = upperFirst(sub);
    const subPath = `${gv}${ns}/${r.resource}/{name}/${sub}`;
    const subName = pathParam('name', `name of the ${upperFirst(SUBRESOURCE_KINDS[sub]?.kind ?? r.kind)}`);
    const connect = CONNECT_SUBRESOURCES[sub];
    if (connect) {
      const cgvk: GVK = { group: r.group, version: r.version, kind: connect.kind(r.kind) };
      const ops = connect.methods.map((m) =>
        mk({ method: m as Op['method'], operationId: `connect${upperFirst(m)}${opg}${nsWord}${r.kind}${subWord}`, description: `connect ${upperFirst(m).toUpperCase()} requests to ${sub} of ${r.kind}`, action: 'connect', gvk: cgvk, params: [], responses: [['200', 'string'], ['401', undefined]], produces: ['*/*'] }),
      );
      const nameP = pathParam('name', `name of the ${connect.kind(r.kind)}`);
      paths.push({ path: subPath, params: [...(CONNECT_PARAMS[sub] ?? []), nameP, ...nsParam], ops });
      if (sub === 'proxy') {
        paths.push({ path: `${subPath}/{path}`, params: [nameP, ...nsParam, pathParam('path', 'path to the resource'), ...(CONNECT_PARAMS[sub] ?? [])], ops: ops.map((o) => ({ ...o, operationId: `${o.operationId}WithPath` })) });
      }
      continue;
    }
    if (sub === 'log') {
      paths.push({ path: subPath, params: [...LOG_PARAMS, nameParam, ...nsParam, P.pretty], ops: [mk({ method: 'get', operationId: `read${opg}${nsWord}${r.kind}Log`, description: `read log of the specified ${r.kind}`, action: 'get', gvk, params: [], responses: [['200', 'string'], ['401', undefined]], produces: ['text/plain', 'application/json', 'application/yaml', 'application/vnd.kubernetes.protobuf'] })] });
      continue;
    }
    const subGvk = SUBRESOURCE_KINDS[sub] ?? gvk;
    const subDef = SUBRESOURCE_KINDS[sub] ? defOf(subGvk) : self;
    const ops: Op[] = [];
    if (sub === 'eviction' || sub === 'binding' || sub === 'token') {
      ops.push(mk({ method: 'post', operationId: `create${opg}${nsWord}${r.kind}${subWord}`, description: `create ${sub} of a ${r.kind}`, action: 'post', gvk: subGvk, params: [body(subDef ?? ''), ...WRITE_PARAMS], responses: [['200', subDef], ['201', subDef], ['202', subDef], ['401', undefined]] }));
    } else {
      if (sub !== 'finalize') ops.push(mk({ method: 'get', operationId: `read${opg}${nsWord}${r.kind}${subWord}`, description: `read ${sub} of the specified ${r.kind}`, action: 'get', gvk: subGvk, params: [], responses: [['200', subDef], ['401', undefined]] }));
      ops.push(mk({ method: 'put', operationId: `replace${opg}${nsWord}${r.kind}${subWord}`, description: `replace ${sub} of the specified ${r.kind}`, action: 'put', gvk: subGvk, params: [body(subDef ?? ''), ...WRITE_PARAMS], responses: [['200', subDef], ['201', subDef], ['401', undefined]] }));
      if (sub !== 'finalize') ops.push(mk({ method: 'patch', operationId: `patch${opg}${nsWord}${r.kind}${subWord}`, description: `partially update ${sub} of the specified ${r.kind}`, action: 'patch', gvk: subGvk, params: [body(PATCH), ...WRITE_PARAMS, P.force], responses: [['200', subDef], ['201', subDef], ['401', undefined]], consumes: PATCH_TYPES }));
    }
    paths.push({ path: subPath, params: [subName, ...nsParam, P.pretty], ops });
  }
  return paths;
}

/** Rewrites a schema tree: `fn` maps each node (children first). */
function mapSchema(s: OpenAPISchema, fn: (s: OpenAPISchema) => OpenAPISchema): OpenAPISchema {
  const out: OpenAPISchema = { ...s };
  if (s.properties) out.properties = Object.fromEntries(Object.entries(s.properties).map(([k, v]) => [k, mapSchema(v, fn)]));
  if (s.items) out.items = mapSchema(s.items, fn);
  if (typeof s.additionalProperties === 'object') out.additionalProperties = mapSchema(s.additionalProperties, fn);
  for (const k of ['allOf', 'anyOf', 'oneOf'] as const) {
    const list = s[k];
    if (list) out[k] = list.map((x) => mapSchema(x, fn));
  }
  if (s.not) out.not = mapSchema(s.not, fn);
  return fn(out);
}

/** Swagger 2.0 has no oneOf/anyOf/not/nullable: a oneOf of plain types becomes one type (string when allowed). */
function toV2Schema(s: OpenAPISchema): OpenAPISchema {
  return mapSchema(s, (n) => {
    const out = { ...n };
    if (out.oneOf && !out.type && out.oneOf.every((x) => x.type && Object.keys(x).length === 1)) {
      const types = out.oneOf.map((x) => x.type!);
      out.type = types.includes('string') ? 'string' : types[0];
    }
    delete out.oneOf;
    delete out.anyOf;
    delete out.not;
    delete out.nullable;
    if (out.$ref) out.$ref = out.$ref.replace('#/components/schemas/', '#/definitions/');
    return out;
  });
}

/** OpenAPI v3: refs point into components, and a ref with siblings is wrapped in allOf, as kube-openapi does. */
function toV3Schema(s: OpenAPISchema): OpenAPISchema {
  return mapSchema(s, (n) => {
    if (!n.$ref) return n;
    const { $ref, ...rest } = n;
    const ref = $ref.replace('#/definitions/', '#/components/schemas/');
    return Object.keys(rest).length ? { allOf: [{ $ref: ref }], ...rest } : { $ref: ref };
  });
}

function refsOf(s: OpenAPISchema, into: Set<string>): void {
  mapSchema(s, (n) => {
    if (n.$ref) into.add(n.$ref.replace(/^#\/(definitions|components\/schemas)\//, ''));
    return n;
  });
}

/** `defs` restricted to what `roots` reach. */
function closure(defs: SchemaDefinitions, roots: Iterable<string>): SchemaDefinitions {
  const seen = new Set<string>();
  const stack = [...roots];
  while (stack.length) {
    const n = stack.pop()!;
    if (seen.has(n) || !defs[n]) continue;
    seen.add(n);
    const refs = new Set<string>();
    refsOf(defs[n]!, refs);
    stack.push(...refs);
  }
  const out: SchemaDefinitions = {};
  for (const n of [...seen].sort()) out[n] = defs[n]!;
  return out;
}

const sha512Hex = (data: Uint8Array | string): string => createHash('sha512').update(data).digest('hex').toUpperCase();

interface Cached {
  json: Uint8Array;
  etag: string;
  modified: Date;
  protobuf?: Uint8Array;
}

/** One media type a handler can serve. */
interface Offer {
  type: string;
  subtype: string;
  contentType: string;
  kind: 'json' | 'protobuf';
}

/** Picks the first offer that the Accept header's clauses (sorted by q) allow; undefined: 406. */
function negotiate(accept: string | undefined, offers: readonly Offer[]): Offer | undefined {
  const clauses = (accept?.trim() ? accept : '*/*')
    .split(',')
    .map((c, i) => {
      const [mt, ...params] = c.trim().split(';').map((x) => x.trim());
      const [type = '', subtype = ''] = (mt ?? '').split('/');
      let qv = 1;
      for (const p of params) if (p.startsWith('q=')) qv = Number(p.slice(2));
      return { type, subtype, q: Number.isFinite(qv) ? qv : 0, i };
    })
    .filter((c) => c.q > 0 && c.type !== '')
    .sort((a, b) => b.q - a.q || a.i - b.i);
  for (const c of clauses) {
    for (const o of offers) {
      if ((c.type === o.type || c.type === '*') && (c.subtype === o.subtype || c.subtype === '*')) return o;
    }
  }
  return undefined;
}

const V2_OFFERS: readonly Offer[] = [
  { type: 'application', subtype: 'json', contentType: 'application/json', kind: 'json' },
  { type: 'application', subtype: 'com.github.proto-openapi.spec.v2.v1.0+protobuf', contentType: PROTOBUF_V2_TYPE, kind: 'protobuf' },
  { type: 'application', subtype: 'com.github.proto-openapi.spec.v2@v1.0+protobuf', contentType: PROTOBUF_V2_TYPE, kind: 'protobuf' },
];
const V3_OFFERS: readonly Offer[] = [{ type: 'application', subtype: 'json', contentType: 'application/json', kind: 'json' }];

/**
 * Builds and serves the OpenAPI documents. Created once at start with the built-in definitions;
 * the API server calls {@link setCustomResources} when CRDs change and {@link invalidate} when the
 * served resources change.
 */
export class OpenAPIPublisher {
  private readonly builtin: SchemaDefinitions;
  private custom: SchemaDefinitions = {};
  private v2Cache: Cached | undefined;
  private v3Cache = new Map<string, Cached>();
  private v3IndexCache: Cached | undefined;
  private merged: { defs: SchemaDefinitions; byGvk: Map<string, string> } | undefined;

  constructor(private readonly opts: OpenAPIPublisherOptions) {
    this.builtin = opts.definitions;
  }

  /** Drops every cached document; the next request rebuilds. */
  invalidate(): void {
    this.v2Cache = undefined;
    this.v3Cache.clear();
    this.v3IndexCache = undefined;
    this.merged = undefined;
  }

  /** Replaces the custom resource schemas (all served CRD versions) and invalidates. */
  setCustomResources(schemas: readonly CustomResourceSchema[]): void {
    const defs: SchemaDefinitions = {};
    for (const c of schemas) {
      const name = customResourceDefinitionName(c.group, c.version, c.kind);
      const listKind = c.listKind ?? `${c.kind}List`;
      const base = structuredClone(c.schema);
      const props = { ...(base.properties ?? {}) };
      props['apiVersion'] = { type: 'string', description: 'APIVersion defines the versioned schema of this representation of an object.' };
      props['kind'] = { type: 'string', description: 'Kind is a string value representing the REST resource this object represents.' };
      props['metadata'] = { $ref: `#/definitions/${META}.ObjectMeta`, description: "Standard object's metadata." };
      defs[name] = { ...base, type: 'object', properties: props, 'x-kubernetes-group-version-kind': [{ group: c.group, version: c.version, kind: c.kind }] };
      defs[customResourceDefinitionName(c.group, c.version, listKind)] = {
        description: `${listKind} is a list of ${c.kind}`,
        type: 'object',
        required: ['items'],
        properties: {
          apiVersion: { type: 'string', description: 'APIVersion defines the versioned schema of this representation of an object.' },
          items: { type: 'array', description: `List of ${c.kind.toLowerCase()}s.`, items: { $ref: `#/definitions/${name}` } },
          kind: { type: 'string', description: 'Kind is a string value representing the REST resource this object represents.' },
          metadata: { $ref: `#/definitions/${META}.ListMeta`, description: "Standard list metadata." },
        },
        'x-kubernetes-group-version-kind': [{ group: c.group, version: c.version, kind: listKind }],
      };
    }
    this.custom = defs;
    this.invalidate();
  }

  private definitions(): { defs: SchemaDefinitions; byGvk: Map<string, string> } {
    if (this.merged) return this.merged;
    const defs: SchemaDefinitions = { ...this.builtin, ...this.custom };
    // DeleteOptions and WatchEvent belong to every served group-version.
    const gvs = new Map<string, { group: string; version: string }>();
    for (const r of this.opts.resources()) gvs.set(`${r.group}/${r.version}`, { group: r.group, version: r.version });
    const sortedGvs = [...gvs.values()].sort((a, b) => `${a.group}/${a.version}`.localeCompare(`${b.group}/${b.version}`));
    for (const n of [DELETE_OPTIONS, WATCH_EVENT]) {
      const d = defs[n];
      if (d) defs[n] = { ...d, 'x-kubernetes-group-version-kind': sortedGvs.map((gv) => ({ ...gv, kind: n.slice(n.lastIndexOf('.') + 1) })) };
    }
    const byGvk = new Map<string, string>();
    for (const [n, d] of Object.entries(defs)) {
      if (n === DELETE_OPTIONS || n === WATCH_EVENT) continue;
      for (const g of d['x-kubernetes-group-version-kind'] ?? []) byGvk.set(`${g.group}/${g.version}/${g.kind}`, n);
    }
    this.merged = { defs, byGvk };
    return this.merged;
  }

  private pathSpecs(filter?: (r: ServedResource) => boolean): PathSpec[] {
    const { byGvk } = this.definitions();
    const defOf = (g: GVK): string | undefined => byGvk.get(`${g.group}/${g.version}/${g.kind}`);
    return this.opts.resources()
      .filter((r) => !filter || filter(r))
      .flatMap((r) => pathsOf(r, defOf));
  }

  private info(): JsonObject {
    return { title: 'Kubernetes', version: this.opts.version ?? 'v1.32.0' };
  }

  /** The swagger 2.0 document (built on demand; cached as JSON). */
  v2Document(): JsonObject {
    return JSON.parse(Buffer.from(this.v2().json).toString('utf8')) as JsonObject;
  }

  private v2(): Cached {
    if (this.v2Cache) return this.v2Cache;
    const { defs } = this.definitions();
    const specs = this.pathSpecs();
    const paths: JsonObject = {};
    const roots = new Set<string>([STATUS, DELETE_OPTIONS, WATCH_EVENT, PATCH, ...Object.keys(this.custom)]);
    for (const spec of specs) {
      const item: JsonObject = {};
      for (const op of spec.ops) {
        item[op.method] = renderV2Op(op);
        for (const [, d] of op.responses) if (d && d !== 'string') roots.add(d);
        for (const p of op.params) if (p.schemaRef) roots.add(p.schemaRef);
      }
      item['parameters'] = spec.params.map(renderV2Param);
      paths[spec.path] = item;
    }
    const definitions: JsonObject = {};
    for (const [n, d] of Object.entries(closure(defs, roots))) definitions[n] = toV2Schema(d) as unknown as Json;
    const doc: JsonObject = {
      swagger: '2.0',
      info: this.info(),
      paths: sortKeys(paths),
      definitions,
      securityDefinitions: { BearerToken: { description: 'Bearer Token authentication', in: 'header', name: 'authorization', type: 'apiKey' } },
      security: [{ BearerToken: [] }],
    };
    const json = Buffer.from(JSON.stringify(doc));
    this.v2Cache = { json, etag: sha512Hex(json), modified: this.now() };
    return this.v2Cache;
  }

  private v2Protobuf(): Cached {
    const c = this.v2();
    c.protobuf ??= encodeOpenAPIv2(JSON.parse(Buffer.from(c.json).toString('utf8')) as object);
    return c;
  }

  /** The group-version paths that have documents: `api/v1`, `apis/apps/v1`, … */
  groupVersions(): string[] {
    const set = new Set(this.opts.resources().map((r) => groupVersionPath(r.group, r.version)));
    return [...set].sort();
  }

  /** The OpenAPI v3 document of one group-version (`api/v1`, `apis/apps/v1`), or undefined. */
  v3Document(gvPath: string): JsonObject | undefined {
    const c = this.v3(gvPath);
    return c ? (JSON.parse(Buffer.from(c.json).toString('utf8')) as JsonObject) : undefined;
  }

  private v3(gvPath: string): Cached | undefined {
    const hit = this.v3Cache.get(gvPath);
    if (hit) return hit;
    if (!this.groupVersions().includes(gvPath)) return undefined;
    const { defs } = this.definitions();
    const specs = this.pathSpecs((r) => groupVersionPath(r.group, r.version) === gvPath);
    const paths: JsonObject = {};
    const roots = new Set<string>([STATUS, DELETE_OPTIONS, WATCH_EVENT, PATCH]);
    for (const spec of specs) {
      const item: JsonObject = {};
      for (const op of spec.ops) {
        item[op.method] = renderV3Op(op);
        for (const [, d] of op.responses) if (d && d !== 'string') roots.add(d);
        for (const p of op.params) if (p.schemaRef) roots.add(p.schemaRef);
      }
      item['parameters'] = spec.params.map(renderV3Param);
      paths[spec.path] = item;
    }
    const schemas: JsonObject = {};
    for (const [n, d] of Object.entries(closure(defs, roots))) schemas[n] = toV3Schema(d) as unknown as Json;
    const doc: JsonObject = {
      openapi: '3.0.0',
      info: this.info(),
      paths: sortKeys(paths),
      components: {
        schemas,
        securitySchemes: { BearerToken: { type: 'apiKey', description: 'Bearer Token authentication', name: 'authorization', in: 'header' } },
      },
      security: [{ BearerToken: [] }],
    };
    const json = Buffer.from(JSON.stringify(doc));
    const c: Cached = { json, etag: sha512Hex(json), modified: this.now() };
    this.v3Cache.set(gvPath, c);
    return c;
  }

  /** The `/openapi/v3` index: each group-version with its hash-pinned URL. */
  v3Index(): { paths: Record<string, { serverRelativeURL: string }> } {
    const paths: Record<string, { serverRelativeURL: string }> = {};
    for (const gv of this.groupVersions()) {
      const c = this.v3(gv);
      if (c) paths[gv] = { serverRelativeURL: `/openapi/v3/${gv}?hash=${c.etag}` };
    }
    return { paths };
  }

  private now(): Date {
    return this.opts.now?.() ?? new Date();
  }

  /**
   * Serves `/openapi/v2`, `/openapi/v3` and `/openapi/v3/<gv>` like kube-apiserver: content
   * negotiation (406 when nothing fits), a quoted ETag, 304 on a matching If-None-Match, and for
   * v3 documents asked for by `?hash=` either a 301 to the current hash or immutable caching.
   * Returns undefined for other paths.
   */
  handle(req: OpenAPIRequest): OpenAPIResponse | undefined {
    const path = req.path.replace(/\/+$/, '');
    if (path === '/openapi/v2') {
      const offer = negotiate(req.accept, V2_OFFERS);
      if (!offer) return { status: 406, headers: { Vary: 'Accept' } };
      const c = offer.kind === 'protobuf' ? this.v2Protobuf() : this.v2();
      return this.respond(req, c, offer.kind === 'protobuf' ? c.protobuf! : c.json, offer.contentType);
    }
    if (path === '/openapi/v3') {
      if (!this.v3IndexCache) {
        const json = Buffer.from(JSON.stringify(this.v3Index()));
        this.v3IndexCache = { json, etag: sha512Hex(json), modified: this.now() };
      }
      return this.respond(req, this.v3IndexCache, this.v3IndexCache.json, 'application/json');
    }
    if (path.startsWith('/openapi/v3/')) {
      const gv = path.slice('/openapi/v3/'.length);
      const offer = negotiate(req.accept, V3_OFFERS);
      const c = this.v3(gv);
      if (!c) return { status: 404, headers: { 'Content-Type': 'text/plain' }, body: Buffer.from('404 page not found\n') };
      if (!offer) return { status: 406, headers: { Vary: 'Accept' } };
      const hash = req.query?.get('hash');
      if (hash) {
        if (hash !== c.etag) {
          return { status: 301, headers: { Location: `/openapi/v3/${gv}?hash=${c.etag}`, Vary: 'Accept' } };
        }
        const expires = new Date(this.now().getTime() + 365 * 24 * 3600 * 1000);
        return this.respond(req, c, c.json, offer.contentType, { 'Cache-Control': 'public, immutable', Expires: expires.toUTCString() });
      }
      return this.respond(req, c, c.json, offer.contentType);
    }
    return undefined;
  }

  private respond(req: OpenAPIRequest, c: Cached, bodyBytes: Uint8Array, contentType: string, extra: Record<string, string> = {}): OpenAPIResponse {
    const etag = `"${c.etag}"`;
    const headers: Record<string, string> = { Vary: 'Accept', ETag: etag, 'Last-Modified': c.modified.toUTCString(), ...extra };
    const inm = req.ifNoneMatch;
    if (inm && (inm.trim() === '*' || inm.split(',').some((t) => t.trim().replace(/^W\//, '') === etag))) {
      return { status: 304, headers };
    }
    return { status: 200, headers: { ...headers, 'Content-Type': contentType, 'Content-Length': String(bodyBytes.byteLength) }, body: bodyBytes };
  }
}

function sortKeys(o: JsonObject): JsonObject {
  const out: JsonObject = {};
  for (const k of Object.keys(o).sort()) out[k] = o[k]!;
  return out;
}

function renderV2Param(p: Param): JsonObject {
  if (p.in === 'body') {
    const out: JsonObject = { name: 'body', in: 'body', schema: p.schemaRef ? { $ref: `#/definitions/${p.schemaRef}` } : { type: 'object' } };
    if (p.required) out['required'] = true;
    return out;
  }
  const out: JsonObject = { uniqueItems: true, type: p.type ?? 'string', name: p.name, in: p.in, description: p.description };
  if (p.required) out['required'] = true;
  return out;
}

function renderV3Param(p: Param): JsonObject {
  const out: JsonObject = { name: p.name, in: p.in, description: p.description, schema: { type: p.type ?? 'string', uniqueItems: true } };
  if (p.required) out['required'] = true;
  return out;
}

function gvkJson(g: GVK): JsonObject {
  return { group: g.group, kind: g.kind, version: g.version };
}

function renderV2Op(op: Op): JsonObject {
  const responses: JsonObject = {};
  for (const [code, def] of op.responses) {
    const r: JsonObject = { description: STATUS_TEXT[code] ?? 'OK' };
    if (def === 'string') r['schema'] = { type: 'string' };
    else if (def) r['schema'] = { $ref: `#/definitions/${def}` };
    responses[code] = r;
  }
  const out: JsonObject = {
    description: op.description,
    consumes: op.consumes,
    produces: op.produces,
    schemes: ['https'],
    tags: [op.tag],
    operationId: op.operationId,
  };
  if (op.params.length) out['parameters'] = op.params.map(renderV2Param);
  out['responses'] = responses;
  out['x-kubernetes-action'] = op.action;
  out['x-kubernetes-group-version-kind'] = gvkJson(op.gvk);
  return out;
}

function renderV3Op(op: Op): JsonObject {
  const responses: JsonObject = {};
  for (const [code, def] of op.responses) {
    const r: JsonObject = { description: STATUS_TEXT[code] ?? 'OK' };
    if (def) {
      const schema: JsonObject = def === 'string' ? { type: 'string' } : { $ref: `#/components/schemas/${def}` };
      r['content'] = Object.fromEntries(op.produces.map((t) => [t, { schema }]));
    }
    responses[code] = r;
  }
  const out: JsonObject = {
    tags: [op.tag],
    description: op.description,
    operationId: op.operationId,
  };
  const params = op.params.filter((p) => p.in !== 'body');
  if (params.length) out['parameters'] = params.map(renderV3Param);
  const b = op.params.find((p) => p.in === 'body');
  if (b) {
    const schema: JsonObject = b.schemaRef ? { $ref: `#/components/schemas/${b.schemaRef}` } : { type: 'object' };
    const types = op.method === 'patch' ? op.consumes : ['*/*'];
    out['requestBody'] = { content: Object.fromEntries(types.map((t) => [t, { schema }])), ...(b.required ? { required: true } : {}) };
  }
  out['responses'] = responses;
  out['x-kubernetes-action'] = op.action;
  out['x-kubernetes-group-version-kind'] = gvkJson(op.gvk);
  return out;
}

const STATUS_TEXT: Readonly<Record<string, string>> = { '200': 'OK', '201': 'Created', '202': 'Accepted', '401': 'Unauthorized' };
