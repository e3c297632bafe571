import type { ResourceDescriptor } from '../api/resource-table.js';
import type { GenericStore } from './registry/generic-store.js';

/** A resource as the API server serves it: its store, and where it came from. */
export interface ServedResource {
  store: GenericStore;
  descriptor: ResourceDescriptor;
  /** Set for resources served because of a CustomResourceDefinition. */
  crdName?: string;
}

/**
 * Every resource being served, by group and plural name. Built-in resources are added at start;
 * CustomResourceDefinitions add and remove theirs while running, and listeners (discovery,
 * OpenAPI) are told.
 */
export class ResourceRegistry {
  private readonly byGroupResource = new Map<string, ServedResource>();
  private readonly listeners = new Set<() => void>();
  private readonly answered = new Map<string, ResourceDescriptor>();

  private static id(group: string, resource: string): string {
    return `${group}/${resource}`;
  }

  add(served: ServedResource): void {
    const id = ResourceRegistry.id(served.descriptor.group, served.descriptor.resource);
    if (this.byGroupResource.has(id)) throw new Error(`resource ${id} is already registered`);
    this.byGroupResource.set(id, served);
    this.changed();
  }

  remove(group: string, resource: string): ServedResource | undefined {
    const id = ResourceRegistry.id(group, resource);
    const served = this.byGroupResource.get(id);
    if (served) {
      this.byGroupResource.delete(id);
      served.store.cache.close();
      this.changed();
    }
    return served;
  }

  /** The resource at group/version/resource, if that version is served. */
  lookup(group: string, version: string, resource: string): ServedResource | undefined {
    const served = this.byGroupResource.get(ResourceRegistry.id(group, resource));
    return served && served.descriptor.versions.includes(version) ? served : undefined;
  }

  byGroup(group: string, resource: string): ServedResource | undefined {
    return this.byGroupResource.get(ResourceRegistry.id(group, resource));
  }

  all(): ServedResource[] {
    return [...this.byGroupResource.values()];
  }

  /** Registers a create-only resource that is answered, not stored (TokenReview, SubjectAccessReview …). */
  addAnswered(descriptor: ResourceDescriptor): void {
    const id = ResourceRegistry.id(descriptor.group, descriptor.resource);
    if (this.byGroupResource.has(id) || this.answered.has(id)) throw new Error(`resource ${id} is already registered`);
    this.answered.set(id, descriptor);
    this.changed();
  }

  answeredResource(group: string, version: string, resource: string): ResourceDescriptor | undefined {
    const d = this.answered.get(ResourceRegistry.id(group, resource));
    return d && d.versions.includes(version) ? d : undefined;
  }

  /** Every resource's discovery facts: stored and answered ones. */
  descriptors(): ResourceDescriptor[] {
    return [...[...this.byGroupResource.values()].map((s) => s.descriptor), ...this.answered.values()];
  }

  isNamespaced(group: string, version: string, resource: string): boolean {
    return (this.lookup(group, version, resource)?.descriptor ?? this.answeredResource(group, version, resource))?.namespaced ?? false;
  }

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private changed(): void {
    for (const l of this.listeners) l();
  }
}
