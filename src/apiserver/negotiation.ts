/** One entry of an Accept header: `application/json;as=Table;v=v1;g=meta.k8s.io`. */
export interface MediaRange {
  type: string;
  params: Record<string, string>;
}

export function parseAccept(header: string | undefined): MediaRange[] {
  if (!header) return [{ type: '*/*', params: {} }];
  return header.split(',').map((part) => {
    const [type, ...rest] = part.split(';').map((s) => s.trim());
    const params: Record<string, string> = {};
    for (const p of rest) {
      const eq = p.indexOf('=');
      if (eq > 0) params[p.slice(0, eq).trim()] = p.slice(eq + 1).trim().replace(/^"|"$/g, '');
    }
    return { type: (type ?? '').toLowerCase(), params };
  });
}

export type ResponseShape =
  | { kind: 'object'; format: 'json' | 'yaml' }
  | { kind: 'table'; version: 'v1' | 'v1beta1' }
  | { kind: 'metadata'; version: 'v1' | 'v1beta1' };

function jsonLike(type: string): boolean {
  return type === 'application/json' || type === '*/*' || type === 'application/*';
}

/**
 * Picks the response form for a resource request, in the client's order of preference; undefined
 * when nothing offered can be produced (406).
 */
export function negotiateResource(accept: string | undefined): ResponseShape | undefined {
  for (const m of parseAccept(accept)) {
    const as = m.params['as'];
    if (as && jsonLike(m.type) && m.params['g'] === 'meta.k8s.io') {
      const version = m.params['v'] === 'v1beta1' ? 'v1beta1' : m.params['v'] === 'v1' ? 'v1' : undefined;
      if (!version) continue;
      if (as === 'Table') return { kind: 'table', version };
      if (as === 'PartialObjectMetadata' || as === 'PartialObjectMetadataList') return { kind: 'metadata', version };
      continue;
    }
    if (as) continue;
    if (jsonLike(m.type)) return { kind: 'object', format: 'json' };
    if (m.type === 'application/yaml') return { kind: 'object', format: 'yaml' };
  }
  return undefined;
}
