import type { IncomingMessage, ServerResponse } from 'node:http';
import { StatusError } from '../machinery/status-error.js';
import type { OpenAPIPublisher } from './openapi/publish.js';

/** Serves `/openapi/v2` and `/openapi/v3[/…]`; rebuilt lazily after `invalidate()` (CRD changes). */
export interface OpenAPIService {
  serve(req: IncomingMessage, res: ServerResponse, path: string, url: URL): Promise<void>;
  invalidate(): void;
}

/** Adapts the publisher (pure request → response) to the HTTP server. */
export function serveOpenAPI(publisher: OpenAPIPublisher): OpenAPIService {
  return {
    invalidate: () => publisher.invalidate(),
    async serve(req, res, path, url) {
      const ifNoneMatch = req.headers['if-none-match'];
      const out = publisher.handle({ path, query: url.searchParams, accept: req.headers.accept, ifNoneMatch: Array.isArray(ifNoneMatch) ? ifNoneMatch[0] : ifNoneMatch });
      if (!out) throw new StatusError(404, 'NotFound', 'the server could not find the requested resource', {});
      res.writeHead(out.status, out.headers);
      res.end(out.body ? Buffer.from(out.body) : undefined);
    },
  };
}
