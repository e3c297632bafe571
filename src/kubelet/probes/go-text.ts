/**
 * Go's wording for what probes report: the kubelet's probe outputs and event messages are Go error
 * strings (`dial tcp 10.42.0.5:8080: connect: connection refused`), durations (`1s`, `1m30s`)
 * and `%q` quoting, and users grep for them, so Node's errors are translated at this boundary.
 */

/** `net.JoinHostPort`: IPv6 literals in brackets. */
export function joinHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Go's `%q` for a string (ASCII-faithful; JSON escapes stand in for the rare control character). */
export function goQuote(s: string): string {
  return JSON.stringify(s);
}

/** `time.Duration.String()` for a whole number of milliseconds (probe timeouts are whole seconds). */
export function goDuration(ms: number): string {
  if (ms === 0) return '0s';
  if (ms < 1000) return `${ms}ms`;
  const totalSeconds = ms / 1000;
  const h = Math.floor(totalSeconds / 3600);
  const m = Math.floor((totalSeconds % 3600) / 60);
  const s = totalSeconds - h * 3600 - m * 60;
  const sec = `${Number.isInteger(s) ? s : s.toFixed(3).replace(/0+$/, '')}s`;
  if (h > 0) return `${h}h${m}m${sec}`;
  if (m > 0) return `${m}m${sec}`;
  return sec;
}

interface NodeNetError {
  code?: string;
  message?: string;
  syscall?: string;
  hostname?: string;
}

function asNetError(e: unknown): NodeNetError {
  return typeof e === 'object' && e !== null ? (e as NodeNetError) : { message: String(e) };
}

/**
 * A failed connect as Go's dialer words it: `dial tcp ADDR: connect: connection refused`,
 * `dial tcp ADDR: i/o timeout`, `dial tcp: lookup HOST: no such host`.
 */
export function dialError(e: unknown, host: string, port: number): string {
  const err = asNetError(e);
  const addr = joinHostPort(host, port);
  switch (err.code) {
    case 'ECONNREFUSED':
      return `dial tcp ${addr}: connect: connection refused`;
    case 'EHOSTUNREACH':
      return `dial tcp ${addr}: connect: no route to host`;
    case 'ENETUNREACH':
      return `dial tcp ${addr}: connect: network is unreachable`;
    case 'ETIMEDOUT':
      return `dial tcp ${addr}: i/o timeout`;
    case 'EADDRNOTAVAIL':
      return `dial tcp ${addr}: connect: cannot assign requested address`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `dial tcp: lookup ${host}: no such host`;
    default:
      return `dial tcp ${addr}: ${err.message ?? String(e)}`;
  }
}

/** Go's names of gRPC status codes, as `rpc error: code = NotFound desc = …` shows them. */
const grpcCodeNames = [
  'OK', 'Canceled', 'Unknown', 'InvalidArgument', 'DeadlineExceeded', 'NotFound', 'AlreadyExists', 'PermissionDenied',
  'ResourceExhausted', 'FailedPrecondition', 'Aborted', 'OutOfRange', 'Unimplemented', 'Internal', 'Unavailable', 'DataLoss',
  'Unauthenticated',
];

/** A gRPC status error as grpc-go prints it. */
export function grpcStatusError(code: number, details: string): string {
  return `rpc error: code = ${grpcCodeNames[code] ?? `Code(${code})`} desc = ${details}`;
}
