/**
 * Builds the OpenAPI definitions of the built-in kinds from the models that
 * `@kubernetes/client-node` ships (its `attributeTypeMap` for names, types and formats; its
 * `.d.ts` doc comments for descriptions and `?` for optional fields), adds what client-node
 * drops (extensions, special types, group-version-kinds) from our own tables, and writes
 * `dist/openapi/definitions.json`.
 *
 * The result uses the {@link OpenAPISchema} model with v2-style references: `$ref` is
 * `#/definitions/<name>` and may have siblings (`description`, `x-kubernetes-*`), as in
 * Kubernetes' swagger.json; publish.ts rewrites them for OpenAPI v3.
 *
 * CLI: `node dist/src/apiserver/openapi/generate-definitions.js [--out FILE] [--models DIR]`
 * (default FILE: {@link DEFINITIONS_FILE}).
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { OpenAPISchema, SchemaDefinitions } from '../../machinery/openapi-schema.js';
import { applyExtensions } from './extensions.js';
import { addSpecialDefinitions, SPECIAL_DEFINITIONS, SPECIAL_FIELD_TYPES, specialFieldSchema } from './special-types.js';
import { definitionNameOfClass, groupOfPackage } from './type-packages.js';

/** One field of a client-node model class. */
export interface ClientNodeField {
  /** JSON name (`baseName`). */
  jsonName: string;
  /** TypeScript property name (`name`), which the `.d.ts` uses. */
  tsName: string;
  /** client-node type expression: `string`, `Array<V1Container>`, `{ [key: string]: string; }`, … */
  type: string;
  /** `int32`, `int64`, `double`, `byte`, `date-time`, `int-or-string`, `date-time-micro` or ``. */
  format: string;
  description?: string;
  required: boolean;
}

/** One client-node model class, as read from its `.js` and `.d.ts`. */
export interface ClientNodeModel {
  className: string;
  description?: string;
  fields: ClientNodeField[];
}

const SKIP_FILES = new Set(['ObjectSerializer', 'all']);

/** Finds `@kubernetes/client-node`'s generated models directory from node_modules. */
export function defaultModelsDir(): string {
  const require = createRequire(import.meta.url);
  // The package's exports do not include its package.json; resolve the main entry and walk up.
  let dir = dirname(require.resolve('@kubernetes/client-node'));
  for (let i = 0; i < 6; i++) {
    const candidate = join(dir, 'gen', 'models');
    if (existsSync(candidate)) return candidate;
    const alt = join(dir, 'dist', 'gen', 'models');
    if (existsSync(alt)) return alt;
    dir = dirname(dir);
  }
  throw new Error('cannot find @kubernetes/client-node generated models (dist/gen/models)');
}

function unescapeDoc(lines: string): string {
  return lines
    .split('\n')
    .map((l) => l.replace(/^\s*\*\s?/, '').trim())
    .filter((l) => l !== '')
    .join('\n')
    .replace(/\\(['"\\])/g, '$1');
}

interface AttributeType {
  name: string;
  baseName: string;
  type: string;
  format: string;
}

function isAttributeTypes(v: unknown): v is AttributeType[] {
  return Array.isArray(v) && v.every((a: unknown) => typeof a === 'object' && a !== null && 'baseName' in a && 'type' in a);
}

/** Reads one model class from `<dir>/<className>.js` and `.d.ts`; undefined when it is not a model. */
export function readClientNodeModel(dir: string, className: string): ClientNodeModel | undefined {
  const js = readFileSync(join(dir, `${className}.js`), 'utf8');
  const m = /attributeTypeMap = (\[[\s\S]*?\n\]);/.exec(js);
  if (!m) return undefined;
  const attrs: unknown = JSON.parse(m[1]!);
  if (!isAttributeTypes(attrs)) return undefined;
  const dts = readFileSync(join(dir, `${className}.d.ts`), 'utf8');
  const classAt = dts.indexOf(`export declare class ${className}`);
  const before = dts.slice(0, Math.max(classAt, 0));
  const classDoc = /\/\*\*((?:(?!\*\/)[\s\S])*)\*\/\s*$/.exec(before);
  const body = dts.slice(classAt);
  const docs = new Map<string, { description?: string; optional: boolean }>();
  for (const p of body.matchAll(/(?:\/\*\*((?:(?!\*\/)[\s\S])*)\*\/\s*)?\n\s*'([^']+)'(\?)?:/g)) {
    const description = p[1] !== undefined ? unescapeDoc(p[1]) : undefined;
    docs.set(p[2]!, { ...(description ? { description } : {}), optional: p[3] === '?' });
  }
  const model: ClientNodeModel = { className, fields: [] };
  if (classDoc) {
    const d = unescapeDoc(classDoc[1]!);
    if (d) model.description = d;
  }
  for (const a of attrs) {
    const doc = docs.get(a.name);
    const field: ClientNodeField = {
      jsonName: a.baseName,
      tsName: a.name,
      type: a.type,
      format: a.format,
      required: doc ? !doc.optional : false,
    };
    if (doc?.description) field.description = doc.description;
    model.fields.push(field);
  }
  return model;
}

/** Reads every model class of client-node's generated models directory. */
export function readClientNodeModels(dir: string = defaultModelsDir()): ClientNodeModel[] {
  const models: ClientNodeModel[] = [];
  for (const f of readdirSync(dir).sort()) {
    if (!f.endsWith('.js')) continue;
    const className = f.slice(0, -3);
    if (SKIP_FILES.has(className)) continue;
    const model = readClientNodeModel(dir, className);
    if (model) models.push(model);
  }
  return models;
}

const special = (short: string): OpenAPISchema => ({ $ref: `#/definitions/${SPECIAL_DEFINITIONS[short]!.name}` });

/** The schema of a client-node type expression; `unresolved` collects class names with no definition. */
function typeSchema(type: string, format: string, unresolved: Set<string>): OpenAPISchema {
  const t = type.trim();
  const arr = /^Array<(.+)>$/.exec(t);
  if (arr) return { type: 'array', items: typeSchema(arr[1]!, format, unresolved) };
  const map = /^\{\s*\[key: string\]:\s*(.+?);?\s*\}$/.exec(t);
  if (map) return { type: 'object', additionalProperties: typeSchema(map[1]!, format, unresolved) };
  switch (t) {
    case 'string':
      return format === 'byte' ? { type: 'string', format: 'byte' } : { type: 'string' };
    case 'boolean':
      return { type: 'boolean' };
    case 'number':
      if (format === 'int32' || format === 'int64') return { type: 'integer', format };
      return format ? { type: 'number', format } : { type: 'number' };
    case 'Date':
      return special('Time');
    case 'V1MicroTime':
      return special('MicroTime');
    case 'IntOrString':
      return special('IntOrString');
    case 'any':
      return {};
  }
  const def = definitionNameOfClass(t);
  if (!def) {
    unresolved.add(t);
    return { type: 'object' };
  }
  return { $ref: `#/definitions/${def}` };
}

/** `x-kubernetes-group-version-kind` of a definition that is a top-level kind, else undefined. */
function gvkOf(name: string, schema: OpenAPISchema): Array<{ group: string; version: string; kind: string }> | undefined {
  const props = schema.properties;
  if (!props?.['apiVersion'] || !props['kind']) return undefined;
  const dot = name.lastIndexOf('.');
  const pkg = name.slice(0, dot);
  const kind = name.slice(dot + 1);
  if (pkg === 'io.k8s.apimachinery.pkg.apis.meta.v1') {
    return kind === 'Status' ? [{ group: '', version: 'v1', kind }] : undefined;
  }
  const group = groupOfPackage(pkg);
  if (group === undefined) return undefined;
  return [{ group, version: pkg.slice(pkg.lastIndexOf('.') + 1), kind }];
}

/** Definitions reachable from `roots` through `$ref`s. */
function reachable(defs: SchemaDefinitions, roots: Iterable<string>): Set<string> {
  const seen = new Set<string>();
  const stack = [...roots];
  const visit = (s: OpenAPISchema | undefined): void => {
    if (!s) return;
    if (s.$ref) {
      const n = s.$ref.replace(/^#\/definitions\//, '');
      if (!seen.has(n)) stack.push(n);
    }
    if (s.items) visit(s.items);
    if (typeof s.additionalProperties === 'object') visit(s.additionalProperties);
    for (const p of Object.values(s.properties ?? {})) visit(p);
    for (const list of [s.allOf, s.anyOf, s.oneOf]) for (const x of list ?? []) visit(x);
  };
  while (stack.length) {
    const n = stack.pop()!;
    if (seen.has(n) || !defs[n]) continue;
    seen.add(n);
    visit(defs[n]);
  }
  return seen;
}

/** Result of {@link buildDefinitions}. */
export interface BuiltDefinitions {
  definitions: SchemaDefinitions;
  /** Class names referenced by stable models that map to no definition (should be empty). */
  unresolved: string[];
}

/**
 * Turns client-node models into Kubernetes-named definitions: stable packages only, pruned to
 * what the top-level kinds and the meta package reach, sorted by name.
 */
export function buildDefinitions(models: readonly ClientNodeModel[]): BuiltDefinitions {
  const all: SchemaDefinitions = {};
  const unresolved = new Set<string>();
  addSpecialDefinitions(all);
  for (const model of models) {
    const name = definitionNameOfClass(model.className);
    if (!name) continue;
    const schema: OpenAPISchema = {};
    if (model.description) schema.description = model.description;
    schema.type = 'object';
    const required: string[] = [];
    const properties: Record<string, OpenAPISchema> = {};
    const specials = SPECIAL_FIELD_TYPES[name];
    for (const f of model.fields) {
      const override = specials?.[f.jsonName];
      const prop = (override !== undefined ? specialFieldSchema(override) : undefined) ?? typeSchema(f.type, f.format, unresolved);
      if (f.description) prop.description = f.description;
      properties[f.jsonName] = prop;
      if (f.required) required.push(f.jsonName);
    }
    if (required.length) schema.required = required;
    schema.properties = properties;
    applyExtensions(name, schema);
    const gvk = gvkOf(name, schema);
    if (gvk) schema['x-kubernetes-group-version-kind'] = gvk;
    all[name] = schema;
  }
  // DeleteOptions and WatchEvent are registered in every group-version.
  const gvs = new Map<string, { group: string; version: string }>();
  for (const s of Object.values(all)) {
    for (const g of s['x-kubernetes-group-version-kind'] ?? []) gvs.set(`${g.group}/${g.version}`, { group: g.group, version: g.version });
  }
  for (const kind of ['DeleteOptions', 'WatchEvent']) {
    const s = all[`io.k8s.apimachinery.pkg.apis.meta.v1.${kind}`];
    if (s) s['x-kubernetes-group-version-kind'] = [...gvs.values()].sort((a, b) => `${a.group}/${a.version}`.localeCompare(`${b.group}/${b.version}`)).map((gv) => ({ ...gv, kind }));
  }
  const roots = Object.keys(all).filter(
    (n) => all[n]!['x-kubernetes-group-version-kind'] || n.startsWith('io.k8s.apimachinery.') || Object.values(SPECIAL_DEFINITIONS).some((d) => d.name === n),
  );
  const keep = reachable(all, roots);
  const definitions: SchemaDefinitions = {};
  for (const n of [...keep].sort()) definitions[n] = all[n]!;
  return { definitions, unresolved: [...unresolved].sort() };
}

/** Reads client-node's models and builds the definitions (see {@link buildDefinitions}). */
export function generateDefinitions(modelsDir?: string): BuiltDefinitions {
  return buildDefinitions(readClientNodeModels(modelsDir));
}

/**
 * Where the generated file lives: `dist/openapi/definitions.json`, found from this module's own
 * place (`dist/src/apiserver/openapi/`), so it works from any working directory.
 */
export const DEFINITIONS_FILE = fileURLToPath(new URL('../../../openapi/definitions.json', import.meta.url));

function main(argv: readonly string[]): void {
  let out = DEFINITIONS_FILE;
  let models: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--out') out = argv[++i] ?? out;
    else if (argv[i] === '--models') models = argv[++i];
    else throw new Error(`unknown argument ${argv[i]}; usage: generate-definitions [--out FILE] [--models DIR]`);
  }
  const started = performance.now();
  const { definitions, unresolved } = generateDefinitions(models);
  const json = JSON.stringify(definitions);
  mkdirSync(dirname(resolve(out)), { recursive: true });
  writeFileSync(out, json);
  const ms = Math.round(performance.now() - started);
  process.stdout.write(`wrote ${Object.keys(definitions).length} definitions (${json.length} bytes) to ${out} in ${ms} ms\n`);
  if (unresolved.length) process.stderr.write(`unresolved model classes: ${unresolved.join(', ')}\n`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) main(process.argv.slice(2));
