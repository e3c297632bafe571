import { networkInterfaces } from 'node:os';

/** The machine's first non-loopback IPv4 address, as k3s picks its node IP. */
export function primaryAddress(): string | undefined {
  for (const addrs of Object.values(networkInterfaces())) {
    for (const a of addrs ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return undefined;
}
