/** The tcpSocket probe (pkg/probe/tcp): success when a TCP connection opens within the timeout. */
import { createConnection } from 'node:net';
import { dialError } from './go-text.js';
import type { ProbeOutcome } from './probe-outcome.js';

/** Opens and closes one connection; a failure's output is Go's dial error. */
export function tcpProbe(host: string, port: number, timeoutMs: number): Promise<ProbeOutcome> {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port });
    let settled = false;
    const finish = (outcome: ProbeOutcome): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(outcome);
    };
    const timer = setTimeout(() => finish({ result: 'failure', output: dialError({ code: 'ETIMEDOUT' }, host, port) }), timeoutMs);
    socket.once('connect', () => finish({ result: 'success', output: '' }));
    socket.once('error', (e) => finish({ result: 'failure', output: dialError(e, host, port) }));
  });
}
