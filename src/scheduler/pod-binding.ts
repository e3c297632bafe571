/**
 * Binding a pod to a node through the API (`POST /api/v1/namespaces/NS/bindings`, what
 * `pods/NAME/binding` does): the server sets spec.nodeName and PodScheduled=True at once.
 */
import type { Client, ResourceRef } from '../client/interface.js';

export const bindingsRef: ResourceRef = { group: '', version: 'v1', resource: 'bindings' };

/** Binds `namespace/name` to `nodeName`; throws the server's ApiError (e.g. 409 already assigned). */
export async function bindPod(client: Client, namespace: string, name: string, nodeName: string, uid?: string): Promise<void> {
  await client.create(bindingsRef, namespace, {
    apiVersion: 'v1',
    kind: 'Binding',
    metadata: uid ? { name, namespace, uid } : { name, namespace },
    target: { apiVersion: 'v1', kind: 'Node', name: nodeName },
  });
}
