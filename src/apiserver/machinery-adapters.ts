import { applyJsonPatch } from '../machinery/json-patch.js';
import { applyMergePatch } from '../machinery/merge-patch.js';
import { applyStrategicMergePatch } from '../machinery/strategic-merge-patch.js';
import { serverSideApply, updateManagedFields } from '../machinery/apply/field-manager.js';
import { parseIncludeObject, printerFor, toTable, type Printer } from './tables/index.js';
import type { Applier, TableRenderer } from './handlers/resource-handler.js';
import type { Patcher } from './handlers/patch.js';
import type { FieldOwnership } from './registry/generic-store.js';
import type { KubeObject } from './registry/strategy.js';
import type { ServedResource } from './resource-registry.js';
import type { SchemaIndex } from './schema-index.js';

export interface MachineryAdapters {
  tables: TableRenderer;
  patcher: Patcher;
  applier: Applier;
  ownership: FieldOwnership;
  /** Lets the CRD serving supply printers for custom resources. */
  setCustomPrinters(f: (served: ServedResource) => Printer | undefined): void;
}

function splitApiVersion(apiVersion: string | undefined): { group: string; version: string } {
  const av = apiVersion ?? 'v1';
  const i = av.indexOf('/');
  return i < 0 ? { group: '', version: av } : { group: av.slice(0, i), version: av.slice(i + 1) };
}

/** Binds the pure machinery (patches, server-side apply, printers) to the API server's interfaces. */
export function createMachineryAdapters(schemas: SchemaIndex): MachineryAdapters {
  let customPrinters: (served: ServedResource) => Printer | undefined = () => undefined;
  const schemaOf = (obj: KubeObject): ReturnType<SchemaIndex['lookup']> => {
    const { group, version } = splitApiVersion(obj.apiVersion);
    return schemas.lookup(group, version, obj.kind ?? '');
  };
  return {
    setCustomPrinters(f) {
      customPrinters = f;
    },
    tables: {
      render(served, objects, list, includeObject, version) {
        const printer = (served.crdName ? customPrinters(served) : undefined) ?? printerFor(served.descriptor.group, served.descriptor.resource);
        return toTable(printer, objects, { resourceVersion: list.resourceVersion, continue: list.continueToken, remainingItemCount: list.remainingItemCount }, parseIncludeObject(includeObject), new Date(), {
          apiVersion: `meta.k8s.io/${version}`,
        });
      },
    },
    patcher: {
      json: (doc, patch) => applyJsonPatch(doc, patch),
      merge: (doc, patch) => applyMergePatch(doc, patch),
      strategic: (doc, patch, schema, defs) => applyStrategicMergePatch(doc, patch, schema, defs),
    },
    applier: {
      apply(live, applied, opts) {
        const schema = schemas.lookup(opts.group, opts.version, opts.kind);
        return serverSideApply({ live, applied, manager: opts.manager, force: opts.force, apiVersion: opts.apiVersion, time: opts.now }, schema?.schema, schema?.defs ?? {}) as KubeObject;
      },
    },
    ownership: {
      update(live, updated, manager, subresource, ctx) {
        const schema = schemaOf(updated);
        return updateManagedFields(
          { live, updated, manager, operation: 'Update', apiVersion: updated.apiVersion ?? 'v1', time: ctx.now, subresource: subresource || undefined },
          schema?.schema,
          schema?.defs ?? {},
        ) as KubeObject;
      },
    },
  };
}
