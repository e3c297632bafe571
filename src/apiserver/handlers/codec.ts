import type { IncomingMessage, ServerResponse } from 'node:http';
import YAML from 'yaml';
import { StatusError, badRequest } from '../../machinery/status-error.js';
import { decodeKubernetesProtobuf, isKubernetesProtobuf } from '../protobuf/decode.js';
import type { KubeObject } from '../registry/strategy.js';

const maxBodyBytes = 3 * 1024 * 1024;

export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const b = chunk as Buffer;
    size += b.length;
    if (size > maxBodyBytes) throw new StatusError(413, 'RequestEntityTooLarge', 'Request entity too large: limit is 3145728');
    chunks.push(b);
  }
  return Buffer.concat(chunks);
}

const acceptedBodyTypes = 'accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf';

/** Decodes a JSON, YAML or Kubernetes-protobuf request body into an object; 400 with the parser's words, 415 for other media types. */
export function decodeBody(body: Buffer, contentType: string | undefined, what = 'object'): unknown {
  const type = (contentType ?? 'application/json').split(';')[0]!.trim().toLowerCase();
  if (isKubernetesProtobuf(type)) return decodeKubernetesProtobuf(body);
  if (type !== '' && type !== '*/*' && !type.includes('json') && !type.includes('yaml')) {
    throw new StatusError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - ${acceptedBodyTypes}`);
  }
  const text = body.toString('utf8');
  if (!text.trim()) throw badRequest(`the body of the request was in an unknown format - ${acceptedBodyTypes}`);
  try {
    if (type.includes('yaml')) return YAML.parse(text);
    return JSON.parse(text);
  } catch (e) {
    throw badRequest(`error decoding ${what}: ${(e as Error).message}`);
  }
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function asKubeObject(v: unknown): KubeObject {
  if (!isObject(v)) throw badRequest(`Object 'Kind' is missing in '${JSON.stringify(v)?.slice(0, 200)}'`);
  return v as KubeObject;
}

export function sendJSON(res: ServerResponse, code: number, body: unknown, format: 'json' | 'yaml' = 'json', headers: Record<string, string> = {}): void {
  const text = format === 'yaml' ? YAML.stringify(body) : JSON.stringify(body);
  res.writeHead(code, { 'Content-Type': format === 'yaml' ? 'application/yaml' : 'application/json', 'Cache-Control': 'no-cache, private', ...headers });
  res.end(text);
}

export function sendStatusError(res: ServerResponse, err: StatusError): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  sendJSON(res, err.code, err.toStatus());
}
