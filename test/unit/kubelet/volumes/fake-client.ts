/** A Client over a map, enough for the volume manager: get, and create of serviceaccounts/token. */
import { ApiError, type ApiObject, type Client, type ResourceRef } from '../../../../src/client/interface.js';

export class FakeClient implements Client {
  readonly objects = new Map<string, ApiObject>();
  readonly tokenRequests: ApiObject[] = [];
  tokenLifetimeSeconds = 3600;
  now: () => Date = () => new Date();

  private static key(ref: ResourceRef, ns: string, name: string): string {
    return `${ref.resource}/${ns}/${name}`;
  }

  put(resource: string, ns: string, obj: ApiObject): void {
    this.objects.set(`${resource}/${ns}/${obj.metadata?.name ?? ''}`, structuredClone(obj));
  }

  async get(ref: ResourceRef, ns: string, name: string): Promise<ApiObject> {
    const o = this.objects.get(FakeClient.key(ref, ns, name));
    if (!o) throw new ApiError(404, 'NotFound', `${ref.resource} "${name}" not found`);
    return structuredClone(o);
  }

  async create(ref: ResourceRef, ns: string, obj: ApiObject, query?: { subresource?: string }): Promise<ApiObject> {
    if (ref.resource === 'serviceaccounts' && query?.subresource === 'token') {
      await this.get(ref, ns, obj.metadata?.name ?? '');
      this.tokenRequests.push(obj);
      const exp = new Date(this.now().getTime() + this.tokenLifetimeSeconds * 1000);
      return { ...obj, status: { token: `token-${this.tokenRequests.length}`, expirationTimestamp: exp.toISOString() } };
    }
    throw new Error('not supported');
  }

  async list(): Promise<never> {
    throw new Error('not supported');
  }
  async update(): Promise<never> {
    throw new Error('not supported');
  }
  async delete(): Promise<never> {
    throw new Error('not supported');
  }
  async watch(): Promise<never> {
    throw new Error('not supported');
  }
  async serverResources(): Promise<never> {
    throw new Error('not supported');
  }
}
