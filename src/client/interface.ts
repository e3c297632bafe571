/**
 * The one client interface every component (controllers, scheduler, kubelet …) uses to talk to
 * the API server. Implementations: in-process (inside `k8ts server`) and HTTP. Objects are plain
 * JSON in the version named by the resource reference.
 */

export interface ResourceRef {
  group: string;
  version: string;
  /** Plural resource name, e.g. `pods`. */
  resource: string;
}

export interface ApiObject {
  apiVersion?: string;
  kind?: string;
  metadata?: {
    name?: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    deletionTimestamp?: string;
    finalizers?: string[];
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    [field: string]: unknown;
  };
  [field: string]: unknown;
}

export interface ListQuery {
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  continue?: string;
  resourceVersion?: string;
}

export interface ObjectList {
  items: ApiObject[];
  metadata: { resourceVersion: string; continue?: string };
}

export interface WatchEventOf {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: ApiObject;
}

export interface WriteQuery {
  dryRun?: boolean;
  fieldManager?: string;
  subresource?: string;
}

export interface DeleteQuery {
  gracePeriodSeconds?: number;
  propagationPolicy?: 'Orphan' | 'Background' | 'Foreground';
  preconditions?: { uid?: string; resourceVersion?: string };
}

export interface Client {
  get(ref: ResourceRef, namespace: string, name: string): Promise<ApiObject>;
  list(ref: ResourceRef, namespace: string, query?: ListQuery): Promise<ObjectList>;
  create(ref: ResourceRef, namespace: string, obj: ApiObject, query?: WriteQuery): Promise<ApiObject>;
  /** PUT; with `query.subresource` (e.g. `status`, `finalize`) writes that subresource. */
  update(ref: ResourceRef, namespace: string, obj: ApiObject, query?: WriteQuery): Promise<ApiObject>;
  /** Returns the deleted object, or the object now marked for deletion. */
  delete(ref: ResourceRef, namespace: string, name: string, query?: DeleteQuery): Promise<ApiObject | undefined>;
  /** Streams events until `stop()`; `onClose` is told when the server ends the watch (relist then). */
  watch(ref: ResourceRef, namespace: string, query: ListQuery, onEvent: (e: WatchEventOf) => void, onClose?: (err?: Error) => void): Promise<{ stop(): void }>;
  /** Resources the server serves (for discovery-driven controllers such as namespace deletion). */
  serverResources(): Promise<Array<ResourceRef & { namespaced: boolean; verbs: string[]; kind?: string }>>;
}

/** Errors carry the HTTP code and Kubernetes reason of the Status the server sent. */
export class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export function isNotFound(e: unknown): boolean {
  return e instanceof ApiError && e.code === 404;
}

export function isConflict(e: unknown): boolean {
  return e instanceof ApiError && e.code === 409;
}
