import type { FieldError } from '../../machinery/status-error.js';
import { deepEqual } from '../../machinery/json-value.js';

/** A stored API object as plain JSON. */
export type KubeObject = {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  spec?: unknown;
  status?: unknown;
  [field: string]: unknown;
};

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  finalizers?: string[];
  managedFields?: unknown[];
  selfLink?: string;
  [field: string]: unknown;
}

export type NameValidation = 'subdomain' | 'label' | 'dns1035' | 'path';

/** Who is asking and how; passed to strategies that need it (e.g. to allocate or to check). */
export interface RequestContext {
  namespace: string;
  user: { name: string; groups: string[] };
  dryRun: boolean;
  now: Date;
}

/**
 * How one resource behaves, as Kubernetes' `rest.RESTCreateStrategy` & co. The generic store
 * calls, in this order — create: default → prepareForCreate → validate → (admission) → store;
 * update: default → prepareForUpdate → validateUpdate → (admission) → store. Methods mutate the
 * object in place; validators return field errors (empty = valid).
 */
export interface Strategy {
  /** Fills defaults exactly as the API's defaulting functions would (runs on every write). */
  default?(obj: KubeObject): void;
  /** Resets what a client may not set on create (typically `status`), sets `generation`. */
  prepareForCreate?(obj: KubeObject, ctx: RequestContext): void | Promise<void>;
  validate?(obj: KubeObject, ctx: RequestContext): FieldError[] | Promise<FieldError[]>;
  /** Keeps what a client may not change through the main resource (typically `status`). */
  prepareForUpdate?(obj: KubeObject, old: KubeObject, ctx: RequestContext): void | Promise<void>;
  validateUpdate?(obj: KubeObject, old: KubeObject, ctx: RequestContext): FieldError[] | Promise<FieldError[]>;
  /** Releases what the object held (e.g. a Service's ClusterIP) once it is gone from storage. */
  afterDelete?(obj: KubeObject): void | Promise<void>;
  /** Undoes what prepareForCreate/prepareForUpdate reserved when the write fails or is a dry run. */
  rollback?(obj: KubeObject, old: KubeObject | undefined): void | Promise<void>;
  /** How `metadata.name` is checked: DNS-1123 subdomain (default), DNS-1123 label, DNS-1035 label, or path segment. */
  nameValidation?: NameValidation;
  /** True: a PUT to a missing object creates it (e.g. Endpoints, Leases). */
  allowCreateOnUpdate?: boolean;
  /** Pods: how long a DELETE waits (seconds) before the object really goes; undefined = immediate. */
  gracefulDeleteSeconds?(obj: KubeObject, requested: number | undefined): number | undefined;
  /** True while something other than metadata.finalizers keeps the object (a Namespace's spec.finalizers). */
  holdsDeletion?(obj: KubeObject): boolean;
  /** Marks an object whose deletion began (a Namespace becomes Terminating). */
  beginDeletion?(obj: KubeObject): void;
  /** Field values usable in field selectors besides metadata.name/metadata.namespace. */
  selectableFields?(obj: KubeObject): Record<string, string>;
  /** The `status` subresource's own rules; absent means no status subresource. */
  status?: StatusStrategy;
}

export interface StatusStrategy {
  /** Keeps everything but status from the old object (the default when absent). */
  prepareForUpdate?(obj: KubeObject, old: KubeObject, ctx: RequestContext): void;
  validateUpdate?(obj: KubeObject, old: KubeObject, ctx: RequestContext): FieldError[] | Promise<FieldError[]>;
}

/** Strategy for most resources that have spec and status: status is set only through /status. */
export function specStatusStrategy(extra: Partial<Strategy> = {}): Strategy {
  return {
    prepareForCreate(obj) {
      delete obj.status;
      if (obj.metadata) obj.metadata.generation = 1;
    },
    prepareForUpdate(obj, old) {
      obj.status = old.status;
      if (obj.metadata && !deepEqual(obj.spec, old.spec)) obj.metadata.generation = (old.metadata?.generation ?? 0) + 1;
      else if (obj.metadata) obj.metadata.generation = old.metadata?.generation ?? 1;
    },
    status: {},
    ...extra,
  };
}
