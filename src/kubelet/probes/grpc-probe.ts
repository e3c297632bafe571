/**
 * The grpc probe (pkg/probe/grpc): `grpc.health.v1.Health/Check` with the probe's service name over
 * plaintext; SERVING is a success, anything else (including failing to connect within the timeout)
 * a failure, with grpc_health_probe's wording. The two messages are tiny, so they are encoded by
 * hand rather than loaded from a .proto.
 */
import * as grpc from '@grpc/grpc-js';
import { goDuration, goQuote, grpcStatusError, joinHostPort } from './go-text.js';
import { PROBE_USER_AGENT, type ProbeOutcome } from './probe-outcome.js';

const servingStatus = ['UNKNOWN', 'SERVING', 'NOT_SERVING', 'SERVICE_UNKNOWN'];

function encodeVarint(n: number): number[] {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  out.push(n);
  return out;
}

/** HealthCheckRequest { string service = 1; } */
export function encodeHealthCheckRequest(service: string): Buffer {
  if (service === '') return Buffer.alloc(0);
  const bytes = Buffer.from(service, 'utf8');
  return Buffer.concat([Buffer.from([0x0a, ...encodeVarint(bytes.length)]), bytes]);
}

function readVarint(buf: Buffer, pos: number): [value: number, next: number] {
  let value = 0;
  let shift = 0;
  for (;;) {
    const b = buf[pos++];
    if (b === undefined) throw new Error('truncated varint');
    value += (b & 0x7f) * 2 ** shift;
    if ((b & 0x80) === 0) return [value, pos];
    shift += 7;
  }
}

/** HealthCheckResponse { ServingStatus status = 1; } → the status number (0 when absent). */
export function decodeHealthCheckResponse(buf: Buffer): number {
  let status = 0;
  let pos = 0;
  while (pos < buf.length) {
    const [key, afterKey] = readVarint(buf, pos);
    const field = Math.floor(key / 8);
    const wire = key & 7;
    pos = afterKey;
    if (wire === 0) {
      const [v, next] = readVarint(buf, pos);
      if (field === 1) status = v;
      pos = next;
    } else if (wire === 2) {
      const [len, next] = readVarint(buf, pos);
      pos = next + len;
    } else if (wire === 5) pos += 4;
    else if (wire === 1) pos += 8;
    else throw new Error(`unsupported wire type ${wire}`);
  }
  return status;
}

/** Runs one gRPC health check against host:port. Never errors: every problem is a failure. */
export async function grpcProbe(host: string, port: number, service: string, timeoutMs: number): Promise<ProbeOutcome> {
  const addr = joinHostPort(host, port);
  const deadline = Date.now() + timeoutMs;
  const client = new grpc.Client(addr, grpc.credentials.createInsecure(), {
    'grpc.primary_user_agent': PROBE_USER_AGENT,
    'grpc.enable_retries': 0,
  });
  try {
    const connected = await new Promise<Error | undefined>((resolve) => client.waitForReady(deadline, (err) => resolve(err ?? undefined)));
    if (connected) {
      return { result: 'failure', output: `timeout: failed to connect service ${goQuote(addr)} within ${goDuration(timeoutMs)}: context deadline exceeded` };
    }
    const reply = await new Promise<{ err: grpc.ServiceError | null; status: number }>((resolve) => {
      client.makeUnaryRequest(
        '/grpc.health.v1.Health/Check',
        (s: string) => encodeHealthCheckRequest(s),
        (b: Buffer) => decodeHealthCheckResponse(b),
        service,
        new grpc.Metadata(),
        { deadline },
        (err, status) => resolve({ err, status: status ?? 0 }),
      );
    });
    if (reply.err) {
      const { code, details } = reply.err;
      if (code === grpc.status.UNIMPLEMENTED) {
        return { result: 'failure', output: `error: this server does not implement the grpc health protocol (grpc.health.v1.Health): ${details}` };
      }
      if (code === grpc.status.DEADLINE_EXCEEDED) return { result: 'failure', output: `timeout: health rpc did not complete within ${goDuration(timeoutMs)}` };
      return { result: 'failure', output: `error: health rpc probe failed: ${grpcStatusError(code, details)}` };
    }
    if (reply.status !== 1) {
      return { result: 'failure', output: `service unhealthy (responded with ${goQuote(servingStatus[reply.status] ?? String(reply.status))})` };
    }
    return { result: 'success', output: 'service healthy' };
  } catch (e) {
    return { result: 'failure', output: `error: health rpc probe failed: ${e instanceof Error ? e.message : String(e)}` };
  } finally {
    client.close();
  }
}
