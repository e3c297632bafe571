/**
 * The first usable address of the service CIDR: the ClusterIP of the `kubernetes` Service
 * (10.43.0.1 for k3s' default 10.43.0.0/16), which the serving certificate must name.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { bigIntToIP, ipToBigInt } from '../machinery/ip.js';

/** `10.43.0.0/16` → `10.43.0.1`; `fd00:43::/112` → `fd00:43::1`. Throws on a malformed CIDR. */
export function firstServiceIp(cidr: string): string {
  const [ip = '', bitsText] = cidr.trim().split('/');
  const bits = Number(bitsText);
  if (isIPv4(ip)) {
    if (!Number.isInteger(bits) || bits < 0 || bits > 30) throw new Error(`invalid service CIDR ${cidr}`);
    const mask = bits === 0 ? 0n : ((1n << 32n) - 1n) ^ ((1n << BigInt(32 - bits)) - 1n);
    return bigIntToIP((ipToBigInt(ip) & mask) + 1n, 'IPv4');
  }
  if (isIPv6(ip)) {
    if (!Number.isInteger(bits) || bits < 0 || bits > 126) throw new Error(`invalid service CIDR ${cidr}`);
    const all = (1n << 128n) - 1n;
    const mask = all ^ ((1n << BigInt(128 - bits)) - 1n);
    return bigIntToIP((ipToBigInt(ip) & mask) + 1n, 'IPv6');
  }
  throw new Error(`invalid service CIDR ${cidr}`);
}
