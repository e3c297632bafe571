/**
 * ClusterIP allocation (Kubernetes' `ipallocator`): an in-memory bitmap over the service CIDR,
 * seeded from the stored Services at start. The network address (and, for IPv4, the broadcast
 * address) are never handed out. The first address (`.1`, the `kubernetes` Service) and the
 * rest of the low "static" band (where `--cluster-dns` 10.43.0.10 lives) are given only to
 * Services that ask for them, unless the rest of the range is full.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { AllocationBitmap } from './allocation-bitmap.js';
import { AllocationError } from './port-allocator.js';

export { AllocationError } from './port-allocator.js';

/** Bitmaps larger than this are clipped: a /12 of IPv4 is the largest range Kubernetes allows. */
const maxRangeSize = 1 << 20;

export type IPFamily = 'IPv4' | 'IPv6';

export function ipToBigInt(ip: string): bigint {
  if (isIPv4(ip)) return ip.split('.').reduce((acc, p) => (acc << 8n) | BigInt(Number(p)), 0n);
  let text = ip;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4?.[1]) {
    const n = ipToBigInt(v4[1]);
    text = text.slice(0, -v4[1].length) + `${(n >> 16n).toString(16)}:${(n & 0xffffn).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const headParts = head ? head.split(':') : [];
  const tailParts = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const zeros = tail === undefined ? [] : new Array<string>(8 - headParts.length - tailParts.length).fill('0');
  return [...headParts, ...zeros, ...tailParts].reduce((acc, h) => (acc << 16n) | BigInt(parseInt(h, 16)), 0n);
}

export function bigIntToIP(n: bigint, family: IPFamily): string {
  if (family === 'IPv4') return [24n, 16n, 8n, 0n].map((s) => String((n >> s) & 0xffn)).join('.');
  const parts: string[] = [];
  for (let i = 7; i >= 0; i--) parts.push(((n >> BigInt(i * 16)) & 0xffffn).toString(16));
  let best = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (parts[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && parts[j] === '0') j++;
    if (j - i > bestLen && j - i > 1) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (best < 0) return parts.join(':');
  return `${parts.slice(0, best).join(':')}::${parts.slice(best + bestLen).join(':')}`;
}

export class IPAllocator {
  readonly family: IPFamily;
  /** The CIDR as given, for messages (`The range of valid IPs is 10.43.0.0/16`). */
  readonly cidr: string;
  private readonly network: bigint;
  private readonly size: number;
  private readonly bitmap: AllocationBitmap;
  /** Offsets below this form the static band (Kubernetes' ServiceIPStaticSubrange). */
  private readonly staticBand: number;

  constructor(cidr: string, random: () => number = Math.random) {
    const [ip = '', bitsText] = cidr.trim().split('/');
    const bits = Number(bitsText);
    const family: IPFamily | undefined = isIPv4(ip) ? 'IPv4' : isIPv6(ip) ? 'IPv6' : undefined;
    const width = family === 'IPv4' ? 32 : 128;
    if (!family || bitsText === undefined || !Number.isInteger(bits) || bits < 0 || bits > width - 2) throw new Error(`invalid service CIDR ${cidr}`);
    this.family = family;
    this.cidr = cidr.trim();
    const hostBits = BigInt(width - bits);
    this.network = (ipToBigInt(ip) >> hostBits) << hostBits;
    const total = 1n << hostBits;
    this.size = Number(total > BigInt(maxRangeSize) ? BigInt(maxRangeSize) : total);
    this.bitmap = new AllocationBitmap(this.size, random);
    // Never hand out the network address, nor the IPv4 broadcast address.
    this.bitmap.allocate(0);
    if (family === 'IPv4' && BigInt(this.size) === total) this.bitmap.allocate(this.size - 1);
    this.staticBand = Math.min(Math.max(16, Math.floor(this.size / 16)), 256);
  }

  private offsetOf(ip: string): number | undefined {
    if (this.family === 'IPv4' ? !isIPv4(ip) : !isIPv6(ip)) return undefined;
    const d = ipToBigInt(ip) - this.network;
    if (d < 0n || d >= BigInt(this.size)) return undefined;
    return Number(d);
  }

  /** True when `ip` is an address this allocator could hand out (network/broadcast excluded). */
  contains(ip: string): boolean {
    const off = this.offsetOf(ip);
    if (off === undefined || off === 0) return false;
    return !(this.family === 'IPv4' && off === this.size - 1 && this.isWholeRange());
  }

  private isWholeRange(): boolean {
    const bits = Number(this.cidr.split('/')[1]);
    return BigInt(this.size) === 1n << BigInt(32 - bits);
  }

  has(ip: string): boolean {
    const off = this.offsetOf(ip);
    return off !== undefined && this.contains(ip) && this.bitmap.has(off);
  }

  /** Reserves a specific address; throws AllocationError with Kubernetes' message. */
  allocate(ip: string): void {
    const off = this.offsetOf(ip);
    if (off === undefined || !this.contains(ip)) {
      throw new AllocationError('not-in-range', `the provided IP (${ip}) is not in the valid range. The range of valid IPs is ${this.cidr}`);
    }
    if (!this.bitmap.allocate(off)) throw new AllocationError('allocated', 'provided IP is already allocated');
  }

  /** Reserves any free address: the dynamic band first, then the static band, never `.1`. */
  allocateNext(): string {
    const band = this.size > this.staticBand * 2 ? this.staticBand : 0;
    const notFirst = (o: number): boolean => o === 1;
    const picked = this.bitmap.allocateIn(band, this.size, notFirst) ?? this.bitmap.allocateIn(0, band, notFirst);
    if (picked === undefined) throw new AllocationError('full', 'range is full');
    return bigIntToIP(this.network + BigInt(picked), this.family);
  }

  release(ip: string): void {
    const off = this.offsetOf(ip);
    if (off !== undefined && this.contains(ip)) this.bitmap.release(off);
  }

  /** Addresses in use (reserved network/broadcast excluded). */
  used(): number {
    return this.bitmap.used() - (this.family === 'IPv4' && this.isWholeRange() ? 2 : 1);
  }
}
