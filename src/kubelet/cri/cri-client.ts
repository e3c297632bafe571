/**
 * A client of the Container Runtime Interface (CRI v1: RuntimeService and ImageService) over the
 * runtime's unix socket — the interface the kubelet uses to talk to containerd. The protocol is
 * `proto/cri/api.proto` from k8s.io/cri-api, loaded at run time. Messages are plain objects with
 * camelCase fields; int64 values arrive as strings (nanosecond timestamps exceed 2^53).
 */
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

const protoPath = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..', '..', '..', 'proto', 'cri', 'api.proto');

type Message = Record<string, unknown>;
type UnaryMethod = (req: Message, meta: grpc.Metadata, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res: Message) => void) => grpc.ClientUnaryCall;
type ServiceClient = grpc.Client & Record<string, UnaryMethod>;
type ServiceCtor = new (address: string, credentials: grpc.ChannelCredentials, options?: grpc.ClientOptions) => ServiceClient;

let loaded: { runtime: ServiceCtor; image: ServiceCtor } | undefined;

function services(): { runtime: ServiceCtor; image: ServiceCtor } {
  if (!loaded) {
    const def = protoLoader.loadSync(protoPath, { keepCase: false, longs: String, enums: String, defaults: true, oneofs: true });
    const pkg = grpc.loadPackageDefinition(def) as unknown as { runtime: { v1: { RuntimeService: ServiceCtor; ImageService: ServiceCtor } } };
    loaded = { runtime: pkg.runtime.v1.RuntimeService, image: pkg.runtime.v1.ImageService };
  }
  return loaded;
}

/** A CRI call that failed: the gRPC status code and the runtime's message. */
export class CriError extends Error {
  constructor(
    readonly method: string,
    readonly code: grpc.status,
    readonly details: string,
  ) {
    super(`${method}: ${details || grpc.status[code]}`);
  }

  get notFound(): boolean {
    return this.code === grpc.status.NOT_FOUND;
  }
}

/** The endpoint as gRPC wants it: `unix:///run/containerd/containerd.sock` or a plain path. */
export function criAddress(endpoint: string): string {
  if (endpoint.startsWith('unix://')) return `unix:${endpoint.slice('unix://'.length)}`;
  if (endpoint.startsWith('/')) return `unix:${endpoint}`;
  return endpoint;
}

export interface CriClientOptions {
  /** Per-call deadline (default 2 minutes: image pulls and container stops can be slow). */
  timeoutMs?: number;
}

/**
 * Both CRI services on one channel. `runtime(method, req)` and `image(method, req)` call any RPC
 * by its proto name (`RunPodSandbox`, `PullImage` …) and resolve with the response message.
 */
export class CriClient {
  private readonly runtimeService: ServiceClient;
  private readonly imageService: ServiceClient;
  private readonly timeoutMs: number;

  constructor(endpoint: string, opts: CriClientOptions = {}) {
    const { runtime, image } = services();
    const address = criAddress(endpoint);
    // Large responses (ListContainers with hundreds of containers, stats) exceed the 4 MB default.
    const options: grpc.ClientOptions = { 'grpc.max_receive_message_length': 64 * 1024 * 1024 };
    this.runtimeService = new runtime(address, grpc.credentials.createInsecure(), options);
    this.imageService = new image(address, grpc.credentials.createInsecure(), { ...options, channelOverride: this.runtimeService.getChannel() });
    this.timeoutMs = opts.timeoutMs ?? 120_000;
  }

  runtime<T = Message>(method: string, request: Message = {}, timeoutMs?: number): Promise<T> {
    return this.call(this.runtimeService, method, request, timeoutMs);
  }

  image<T = Message>(method: string, request: Message = {}, timeoutMs?: number): Promise<T> {
    return this.call(this.imageService, method, request, timeoutMs);
  }

  private call<T>(service: ServiceClient, method: string, request: Message, timeoutMs?: number): Promise<T> {
    const fn = service[method.charAt(0).toLowerCase() + method.slice(1)] ?? service[method];
    if (typeof fn !== 'function') return Promise.reject(new Error(`CRI has no method ${method}`));
    return new Promise((resolve, reject) => {
      fn.call(service, request, new grpc.Metadata(), { deadline: Date.now() + (timeoutMs ?? this.timeoutMs) }, (err, res) => {
        if (err) reject(new CriError(method, err.code, err.details));
        else resolve(res as T);
      });
    });
  }

  /** Resolves once the runtime answers (containerd may still be starting). */
  async waitReady(timeoutMs = 30_000): Promise<Message> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        return await this.runtime('Version', { version: 'v1' }, 2000);
      } catch (e) {
        if (Date.now() > deadline) throw e;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  close(): void {
    this.imageService.close();
    this.runtimeService.close();
  }
}

/** A CRI `bytes` field as the client hands it over (a Buffer, or base64 text), as bytes. */
export function criBytes(v: unknown): Buffer {
  if (Buffer.isBuffer(v)) return v;
  if (v instanceof Uint8Array) return Buffer.from(v);
  if (typeof v === 'string') return Buffer.from(v, 'base64');
  return Buffer.alloc(0);
}
