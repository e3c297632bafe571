/**
 * Serves the custom resources of every CustomResourceDefinition, as apiextensions-apiserver's
 * controllers and CRD handler do together: it watches the `customresourcedefinitions` store and,
 * for each CRD, accepts its names (NamesAccepted), registers the resource with its own store,
 * strategy, conversion and schemas, marks it Established and records storedVersions; a CRD being
 * deleted has its custom resources removed first (Terminating), then its cleanup finalizer dropped,
 * and is unregistered once gone. Work is level-triggered and serial: one CRD at a time, by name.
 */

import type { Backend } from '../../store/backend.js';
import type { Logger } from '../../machinery/logger.js';
import { StatusError } from '../../machinery/status-error.js';
import type { ResourceRegistry, ServedResource } from '../resource-registry.js';
import { GenericStore, rfc3339, type AdmissionHook, type FieldOwnership, type RegisteredResource } from '../registry/generic-store.js';
import type { KubeObject, RequestContext } from '../registry/strategy.js';
import { deepEqual } from '../../machinery/json-value.js';
import type { SchemaIndex } from '../schema-index.js';
import type { ScalePaths } from '../handlers/subresources/scale.js';
import { customResourcePrinter } from '../tables/custom-columns.js';
import type { Printer } from '../tables/table.js';
import {
  CLEANUP_FINALIZER,
  CRD_GROUP,
  CRD_RESOURCE,
  asCRD,
  columnsOf,
  descriptorFor,
  scaleOf,
  schemaOf,
  servedVersions,
  storageVersion,
  type CustomResourceDefinition,
  type CustomResourceDefinitionNames,
} from './crd-model.js';
import { addTaken, decideNames, findCondition, setCondition, type CRDCondition, type TakenNames } from './crd-names.js';
import { customResourceStrategy, noneConverter, servingSchema, storageVersionHook, type CustomResourceContext } from './custom-resource-strategy.js';

export interface CustomResourceServingOptions {
  registry: ResourceRegistry;
  backend: Backend;
  /** Where custom schemas are published for pruning, patching and server-side apply. */
  schemas: Pick<SchemaIndex, 'setCustom' | 'removeCustom'>;
  /** Admission run for custom resources (the API server's chain). */
  admission: AdmissionHook[];
  ownership: FieldOwnership | undefined;
  now?: () => Date;
  logger?: Logger;
  /** How long to wait before looking again at a CRD whose work failed or whose objects are still going (ms). */
  retryDelayMs?: number;
}

/** One CRD being served. */
interface Serving {
  ctx: CustomResourceContext;
  served: ServedResource;
  descriptorKey: string;
  /** group/version/kind triples published in the schema index. */
  schemaKeys: Array<[string, string, string]>;
  printers: Map<string, Printer>;
}

const systemUser = { name: 'system:apiserver', groups: ['system:masters', 'system:authenticated'] };
const FIELD_MANAGER = 'kube-apiserver';

/**
 * Started by the API server after the built-in resources are registered. `start()` resolves
 * once every existing CRD has been looked at (and served when its names are accepted); readiness
 * should wait for it.
 */
export class CustomResourceServing {
  private readonly serving = new Map<string, Serving>();
  private readonly pending = new Set<string>();
  private readonly retryTimers = new Map<string, NodeJS.Timeout>();
  private running: Promise<void> | undefined;
  private watch: { stop(): void } | undefined;
  private stopped = false;
  private synced = false;
  private readonly now: () => Date;
  private readonly retryDelayMs: number;

  constructor(private readonly opts: CustomResourceServingOptions) {
    this.now = opts.now ?? (() => new Date());
    this.retryDelayMs = opts.retryDelayMs ?? 2000;
  }

  /** True once the initial sync is done. */
  get ready(): boolean {
    return this.synced;
  }

  private crdStore(): GenericStore {
    const served = this.opts.registry.byGroup(CRD_GROUP, CRD_RESOURCE);
    if (!served) throw new Error(`${CRD_RESOURCE}.${CRD_GROUP} is not registered`);
    return served.store;
  }

  /** Watches CRDs and serves the existing ones; resolves after that initial sync. */
  async start(): Promise<void> {
    await this.startWatch();
    await this.drain();
    this.synced = true;
  }

  private async startWatch(): Promise<void> {
    const store = this.crdStore();
    this.watch = await store.cache.watch(
      0,
      () => true,
      {
        send: (_type, obj) => {
          const name = obj.metadata?.name;
          if (name) this.enqueue(name);
        },
        fail: (err) => {
          this.opts.logger?.warn('watch of customresourcedefinitions ended; restarting', { error: err.message });
          this.watch = undefined;
          if (!this.stopped) setTimeout(() => void this.startWatch().catch((e: unknown) => this.opts.logger?.error('cannot watch customresourcedefinitions', { error: String(e) })), this.retryDelayMs).unref();
        },
      },
      true,
    );
  }

  /** Stops watching and retrying; what is served stays registered. */
  stop(): void {
    this.stopped = true;
    this.watch?.stop();
    for (const t of this.retryTimers.values()) clearTimeout(t);
    this.retryTimers.clear();
  }

  /** Resolves when no work is queued or running (retries scheduled for later do not count). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  private enqueue(name: string): void {
    if (this.stopped) return;
    this.pending.add(name);
    void this.drain();
  }

  private drain(): Promise<void> {
    if (this.running) return this.running;
    if (!this.pending.size || this.stopped) return Promise.resolve();
    const run = async (): Promise<void> => {
      // Yield first so that `running` is set before any work (and its `finally`) happens.
      await Promise.resolve();
      try {
        while (this.pending.size && !this.stopped) {
          const name = this.pending.values().next().value as string;
          this.pending.delete(name);
          await this.reconcileSafely(name);
        }
      } finally {
        this.running = undefined;
      }
    };
    this.running = run();
    return this.running;
  }

  private retryLater(name: string): void {
    if (this.stopped || this.retryTimers.has(name)) return;
    const t = setTimeout(() => {
      this.retryTimers.delete(name);
      this.enqueue(name);
    }, this.retryDelayMs);
    t.unref();
    this.retryTimers.set(name, t);
  }

  private async reconcileSafely(name: string): Promise<void> {
    try {
      await this.reconcile(name);
    } catch (e) {
      if (e instanceof StatusError && e.code === 409) {
        // Someone wrote the CRD meanwhile: its watch event brings us back with the newer object.
        this.pending.add(name);
        return;
      }
      this.opts.logger?.error('custom resource definition sync failed', { crd: name, error: e instanceof Error ? e.stack ?? e.message : String(e) });
      this.retryLater(name);
    }
  }

  private ctx(): RequestContext {
    return { namespace: '', user: systemUser, dryRun: false, now: this.now() };
  }

  private async reconcile(name: string): Promise<void> {
    const store = this.crdStore();
    const obj = await store.tryGet('', name);
    if (!obj) {
      await this.teardown(name);
      return;
    }
    let crd = asCRD(obj);
    if (crd.metadata?.deletionTimestamp) {
      await this.finalize(crd);
      return;
    }
    if (!(crd.metadata?.finalizers ?? []).includes(CLEANUP_FINALIZER)) {
      const next = structuredClone(obj);
      next.metadata = { ...next.metadata, finalizers: [...(next.metadata?.finalizers ?? []), CLEANUP_FINALIZER] };
      crd = asCRD(await store.update('', name, next, this.ctx(), { dryRun: false, fieldManager: FIELD_MANAGER }));
    }

    const decision = decideNames(crd, await this.takenNames(crd));
    let servedNow = false;
    if (decision.accepted.plural && decision.accepted.kind && storageVersion(crd) && servedVersions(crd).length) {
      servedNow = this.serve(crd, decision.accepted);
    }

    const time = rfc3339(this.now());
    const status = crd.status ?? {};
    let conditions = setCondition((status.conditions ?? []) as CRDCondition[], decision.namesAccepted, time);
    const established = findCondition(conditions, 'Established');
    if (decision.ok && servedNow && established?.status !== 'True') {
      conditions = setCondition(conditions, { type: 'Established', status: 'True', reason: 'InitialNamesAccepted', message: 'the initial names have been accepted' }, time);
    } else if (!established) {
      conditions = setCondition(conditions, { type: 'Established', status: 'False', reason: 'NotAccepted', message: 'not all names are accepted' }, time);
    }
    const stored = [...(status.storedVersions ?? [])];
    const sv = storageVersion(crd);
    if (sv && !stored.includes(sv)) stored.push(sv);
    const nextStatus = { ...status, acceptedNames: decision.accepted, conditions, storedVersions: stored };
    await this.writeStatus(crd, nextStatus);
  }

  private async writeStatus(crd: CustomResourceDefinition, status: NonNullable<CustomResourceDefinition['status']>): Promise<CustomResourceDefinition> {
    if (deepEqual(crd.status ?? {}, status)) return crd;
    const next = { ...(crd as unknown as KubeObject), status };
    const updated = await this.crdStore().update('', crd.metadata?.name ?? '', next, this.ctx(), { dryRun: false, fieldManager: FIELD_MANAGER, subresource: 'status' });
    return asCRD(updated);
  }

  /** Names held in the CRD's group by other CRDs and by built-in resources. */
  private async takenNames(crd: CustomResourceDefinition): Promise<TakenNames> {
    const taken: TakenNames = { resources: new Set(), kinds: new Set() };
    const name = crd.metadata?.name;
    const group = crd.spec.group;
    const all = await this.crdStore().list({ namespace: '' });
    for (const other of all.items.map(asCRD)) {
      if (other.metadata?.name === name || other.spec?.group !== group) continue;
      addTaken(taken, other.status?.acceptedNames);
    }
    for (const served of this.opts.registry.all()) {
      const d = served.descriptor;
      if (d.group !== group || served.crdName === name) continue;
      addTaken(taken, { plural: d.resource, singular: d.singular, shortNames: d.shortNames, kind: d.kind, listKind: `${d.kind}List` });
    }
    return taken;
  }

  private buildResource(ctx: CustomResourceContext, names: CustomResourceDefinitionNames): { store: GenericStore; served: ServedResource } {
    const crd = ctx.crd;
    const descriptor = descriptorFor(crd, names);
    const resource: RegisteredResource = {
      descriptor,
      strategy: customResourceStrategy(ctx),
      prefix: `/registry/${crd.spec.group}/${names.plural}/`,
      converter: noneConverter(ctx),
    };
    const store = new GenericStore(resource, this.opts.backend, [...this.opts.admission, storageVersionHook(ctx)], this.opts.ownership);
    return { store, served: { store, descriptor, crdName: crd.metadata?.name ?? '' } };
  }

  /** Registers (or refreshes) the resource of a CRD; false when another resource holds its place. */
  private serve(crd: CustomResourceDefinition, names: CustomResourceDefinitionNames): boolean {
    const name = crd.metadata?.name ?? '';
    const descriptorKey = JSON.stringify(descriptorFor(crd, names));
    let s = this.serving.get(name);
    if (s && s.descriptorKey === descriptorKey) {
      // Same resource: schemas, columns and rules change in place, without dropping watches.
      s.ctx.crd = crd;
      s.ctx.terminating = false;
      s.printers.clear();
      this.publishSchemas(s);
      return true;
    }
    if (s) this.unregister(name, s);
    const holder = this.opts.registry.byGroup(crd.spec.group, names.plural);
    if (holder) return false;
    const ctx: CustomResourceContext = { crd, terminating: false };
    const { served } = this.buildResource(ctx, names);
    s = { ctx, served, descriptorKey, schemaKeys: [], printers: new Map() };
    this.opts.registry.add(served);
    // Filled at once, so revisions listed from now on can be watched from (see startCache).
    void served.store.startCache().catch(() => undefined);
    this.serving.set(name, s);
    this.publishSchemas(s);
    return true;
  }

  private publishSchemas(s: Serving): void {
    const crd = s.ctx.crd;
    const kind = s.served.descriptor.kind;
    const keys: Array<[string, string, string]> = servedVersions(crd).map((v) => [crd.spec.group, v, kind]);
    for (const [g, v, k] of s.schemaKeys) if (!keys.some(([g2, v2, k2]) => g2 === g && v2 === v && k2 === k)) this.opts.schemas.removeCustom(g, v, k);
    for (const [g, v, k] of keys) this.opts.schemas.setCustom(g, v, k, servingSchema(schemaOf(crd, v)));
    s.schemaKeys = keys;
  }

  private unregister(name: string, s: Serving): void {
    for (const [g, v, k] of s.schemaKeys) this.opts.schemas.removeCustom(g, v, k);
    const d = s.served.descriptor;
    if (this.opts.registry.byGroup(d.group, d.resource) === s.served) this.opts.registry.remove(d.group, d.resource);
    this.serving.delete(name);
  }

  /** The CRD is gone from storage: stop serving it, removing objects its finalizer did not. */
  private async teardown(name: string): Promise<void> {
    const s = this.serving.get(name);
    if (!s) return;
    s.ctx.terminating = true;
    await this.deleteAll(s.served.store).catch((e: unknown) => this.opts.logger?.warn('cannot remove custom resources of a deleted definition', { crd: name, error: String(e) }));
    this.unregister(name, s);
  }

  /** Issues a delete for every object; returns how many are still stored afterwards. */
  private async deleteAll(store: GenericStore): Promise<number> {
    const listed = await store.list({ namespace: '' });
    for (const obj of listed.items) {
      if (obj.metadata?.deletionTimestamp) continue;
      try {
        await store.delete(obj.metadata?.namespace ?? '', obj.metadata?.name ?? '', { ...this.ctx(), namespace: obj.metadata?.namespace ?? '' }, { dryRun: false });
      } catch (e) {
        if (!(e instanceof StatusError && e.code === 404)) throw e;
      }
    }
    return store.count();
  }

  /** A CRD marked for deletion: remove its custom resources, then release the cleanup finalizer. */
  private async finalize(crd: CustomResourceDefinition): Promise<void> {
    const name = crd.metadata?.name ?? '';
    let s = this.serving.get(name);
    if (s) s.ctx.terminating = true;
    if (!(crd.metadata?.finalizers ?? []).includes(CLEANUP_FINALIZER)) return;
    const time = rfc3339(this.now());
    const status = crd.status ?? {};
    let conditions = setCondition((status.conditions ?? []) as CRDCondition[], { type: 'Terminating', status: 'True', reason: 'InstanceDeletionInProgress', message: 'CustomResource deletion is in progress' }, time);
    crd = await this.writeStatus(crd, { ...status, conditions });

    const established = findCondition(conditions, 'Established')?.status === 'True';
    let final: CRDCondition;
    if (established) {
      const accepted = crd.status?.acceptedNames;
      const store = s?.served.store ?? (accepted?.plural && accepted.kind ? this.buildResource({ crd, terminating: true }, accepted).store : undefined);
      let remaining = 0;
      try {
        remaining = store ? await this.deleteAll(store) : 0;
      } catch (e) {
        const message = `could not issue all deletes: ${e instanceof Error ? e.message : String(e)}`;
        conditions = setCondition(conditions, { type: 'Terminating', status: 'True', reason: 'InstanceDeletionFailed', message }, time);
        await this.writeStatus(crd, { ...crd.status, conditions });
        throw e;
      } finally {
        if (store && !s) store.cache.close();
      }
      if (remaining > 0) {
        // Objects held by their own finalizers: look again later, as Kubernetes polls.
        this.opts.logger?.info('waiting for custom resources to be removed', { crd: name, remaining });
        this.retryLater(name);
        return;
      }
      final = { type: 'Terminating', status: 'False', reason: 'InstanceDeletionCompleted', message: 'removed all instances' };
    } else {
      final = { type: 'Terminating', status: 'False', reason: 'NeverEstablished', message: 'resource was never established' };
    }
    conditions = setCondition(conditions, final, time);
    crd = await this.writeStatus(crd, { ...crd.status, conditions });
    const next = structuredClone(crd) as unknown as KubeObject;
    next.metadata = { ...next.metadata, finalizers: (crd.metadata?.finalizers ?? []).filter((f) => f !== CLEANUP_FINALIZER) };
    if (!next.metadata.finalizers?.length) delete next.metadata.finalizers;
    await this.crdStore().update('', name, next, this.ctx(), { dryRun: false, fieldManager: FIELD_MANAGER });
    s = this.serving.get(name);
    // When no other finalizer holds it the CRD is gone now; its DELETED event unregisters it too.
    if (s && !(await this.crdStore().tryGet('', name))) this.unregister(name, s);
  }

  /**
   * The printer of a custom resource: its version's `additionalPrinterColumns` (the storage
   * version's when no version is given); undefined for resources not served from a CRD.
   */
  printerFor(served: ServedResource, version?: string): Printer | undefined {
    if (!served.crdName) return undefined;
    const s = this.serving.get(served.crdName);
    if (!s) return undefined;
    const v = version ?? s.served.descriptor.storageVersion;
    let printer = s.printers.get(v);
    if (!printer) {
      try {
        printer = customResourcePrinter(columnsOf(s.ctx.crd, v));
      } catch {
        // A column whose JSONPath does not parse: Kubernetes would have refused the CRD; keep the default.
        printer = customResourcePrinter(undefined);
      }
      s.printers.set(v, printer);
    }
    return printer;
  }

  /** The scale subresource's paths of a custom resource; undefined when it has none (or is built in). */
  scalePaths(served: ServedResource): ScalePaths | undefined {
    if (!served.crdName) return undefined;
    const s = this.serving.get(served.crdName);
    if (!s) return undefined;
    const crd = s.ctx.crd;
    const scale = scaleOf(crd, s.served.descriptor.storageVersion) ?? servedVersions(crd).map((v) => scaleOf(crd, v)).find((x) => x);
    if (!scale) return undefined;
    const paths: ScalePaths = { specReplicasPath: scale.specReplicasPath, statusReplicasPath: scale.statusReplicasPath };
    if (scale.labelSelectorPath) paths.labelSelectorPath = scale.labelSelectorPath;
    return paths;
  }
}
