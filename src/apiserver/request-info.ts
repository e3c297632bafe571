/**
 * What a request is about, parsed from its path and method as Kubernetes'
 * `RequestInfoFactory` does: `/api/v1/namespaces/ns/pods/name/status` →
 * {group '', version 'v1', namespace 'ns', resource 'pods', name 'name', subresource 'status'}.
 */
export interface RequestInfo {
  isResourceRequest: boolean;
  path: string;
  /** Kubernetes verb: get list watch create update patch delete deletecollection (or the lower-cased method for non-resource paths). */
  verb: string;
  apiPrefix: 'api' | 'apis' | '';
  group: string;
  version: string;
  namespace: string;
  resource: string;
  subresource: string;
  name: string;
  /** Path segments after the group/version (for discovery of `/apis/g` and `/apis/g/v`). */
  parts: string[];
}

const methodVerbs: Record<string, string> = { POST: 'create', GET: 'get', HEAD: 'get', PUT: 'update', PATCH: 'patch', DELETE: 'delete' };

/**
 * `isNamespacedResource(group, version, resource)` tells `/api/v1/namespaces/x/pods` (pods in x)
 * from `/api/v1/namespaces/x/status` (the status subresource of namespace x).
 */
export function parseRequestInfo(method: string, url: URL, isNamespacedResource: (group: string, version: string, resource: string) => boolean): RequestInfo {
  const path = url.pathname;
  const segments = path.split('/').filter((s) => s.length > 0).map(decodeURIComponent);
  const info: RequestInfo = { isResourceRequest: false, path, verb: method.toLowerCase(), apiPrefix: '', group: '', version: '', namespace: '', resource: '', subresource: '', name: '', parts: [] };
  if (segments[0] !== 'api' && segments[0] !== 'apis') return info;
  info.apiPrefix = segments[0];
  let rest = segments.slice(1);
  if (info.apiPrefix === 'apis') {
    if (rest.length < 2) {
      info.group = rest[0] ?? '';
      return info;
    }
    info.group = rest[0]!;
    info.version = rest[1]!;
    rest = rest.slice(2);
  } else {
    if (rest.length < 1) return info;
    info.version = rest[0]!;
    rest = rest.slice(1);
  }
  info.parts = rest;
  if (rest.length === 0) return info;
  info.isResourceRequest = true;
  info.verb = methodVerbs[method] ?? method.toLowerCase();
  let watchPrefix = false;
  if (rest[0] === 'watch') {
    watchPrefix = true;
    rest = rest.slice(1);
  }
  if (rest[0] === 'namespaces') {
    if (rest.length >= 3 && isNamespacedResource(info.group, info.version, rest[2]!)) {
      info.namespace = rest[1]!;
      rest = rest.slice(2);
    } else if (rest.length >= 2) {
      info.namespace = rest[1]!;
    }
  }
  info.resource = rest[0] ?? '';
  info.name = rest[1] ?? '';
  info.subresource = rest[2] ?? '';
  if (info.resource === 'namespaces' && info.name) info.namespace = info.name;
  if (watchPrefix) info.verb = 'watch';
  else if (info.verb === 'get' && !info.name) info.verb = url.searchParams.get('watch') === 'true' || url.searchParams.get('watch') === '1' ? 'watch' : 'list';
  else if (info.verb === 'delete' && !info.name) info.verb = 'deletecollection';
  return info;
}
