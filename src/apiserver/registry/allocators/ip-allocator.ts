/**
 * ClusterIP allocation (Kubernetes' `ipallocator`): an in-memory bitmap over the service CIDR,
 * seeded from the stored Services at start. The network address (and, for IPv4, the broadcast
 * address) are never handed out. The first address (`.1`, the `kubernetes` Service) and the
 * rest of the low "static" band (where `--cluster-dns` 10.43.0.10 lives) are given only to
 * Services that ask for them, unless the rest of the range is full.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { AllocationBitmap } from './allocation-bitmap.js';
import { bigIntToIP, ipToBigInt, type IPFamily } from '../../../machinery/ip.js';
import { AllocationError } from './port-allocator.js';

export { AllocationError } from './port-allocator.js';

/** Bitmaps larger than this are clipped: a /12 of IPv4 is the largest range Kubernetes allows. */
const maxRangeSize = 1 << 20;

export { ipToBigInt, bigIntToIP, type IPFamily } from '../../../machinery/ip.js';

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
