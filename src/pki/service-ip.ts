/**
 * The first usable address of the service CIDR: the ClusterIP of the `kubernetes` Service
 * (10.43.0.1 for k3s' default 10.43.0.0/16), which the serving certificate must name.
 */
import { isIPv4, isIPv6 } from 'node:net';

function ipv4ToBigInt(ip: string): bigint {
  return ip.split('.').reduce((acc, part) => (acc << 8n) | BigInt(Number(part)), 0n);
}

function ipv6ToBigInt(ip: string): bigint {
  let text = ip;
  // An embedded IPv4 tail (::ffff:1.2.3.4) becomes two hextets.
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4?.[1]) {
    const n = ipv4ToBigInt(v4[1]);
    text = text.slice(0, -v4[1].length) + `${(n >> 16n).toString(16)}:${(n & 0xffffn).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const headParts = head ? head.split(':') : [];
  const tailParts = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const zeros = tail === undefined ? [] : new Array<string>(8 - headParts.length - tailParts.length).fill('0');
  return [...headParts, ...zeros, ...tailParts].reduce((acc, h) => (acc << 16n) | BigInt(parseInt(h, 16)), 0n);
}

function bigIntToIpv6(n: bigint): string {
  const parts: string[] = [];
  for (let i = 7; i >= 0; i--) parts.push(((n >> BigInt(i * 16)) & 0xffffn).toString(16));
  // Compress the longest run of zero hextets, as the canonical text form does.
  let best = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (parts[i] !== '0') { i++; continue; }
    let j = i;
    while (j < 8 && parts[j] === '0') j++;
    if (j - i > bestLen && j - i > 1) { best = i; bestLen = j - i; }
    i = j;
  }
  if (best < 0) return parts.join(':');
  return `${parts.slice(0, best).join(':')}::${parts.slice(best + bestLen).join(':')}`;
}

/** `10.43.0.0/16` → `10.43.0.1`; `fd00:43::/112` → `fd00:43::1`. Throws on a malformed CIDR. */
export function firstServiceIp(cidr: string): string {
  const [ip = '', bitsText] = cidr.trim().split('/');
  const bits = Number(bitsText);
  if (isIPv4(ip)) {
    if (!Number.isInteger(bits) || bits < 0 || bits > 30) throw new Error(`invalid service CIDR ${cidr}`);
    const mask = bits === 0 ? 0n : ((1n << 32n) - 1n) ^ ((1n << BigInt(32 - bits)) - 1n);
    const n = (ipv4ToBigInt(ip) & mask) + 1n;
    return [24n, 16n, 8n, 0n].map((s) => String((n >> s) & 0xffn)).join('.');
  }
  if (isIPv6(ip)) {
    if (!Number.isInteger(bits) || bits < 0 || bits > 126) throw new Error(`invalid service CIDR ${cidr}`);
    const all = (1n << 128n) - 1n;
    const mask = all ^ ((1n << BigInt(128 - bits)) - 1n);
    return bigIntToIpv6((ipv6ToBigInt(ip) & mask) + 1n);
  }
  throw new Error(`invalid service CIDR ${cidr}`);
}
