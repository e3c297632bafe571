import { bigIntToIP, ipToBigInt, type IPFamily } from '../../machinery/ip.js';

/**
 * Hands out pod IPs from a node's podCIDR, as host-local IPAM does behind the CNI bridge: the
 * network address, the first address (the bridge gateway) and, for IPv4, the broadcast address
 * are never given out. Allocation is by owner (a pod UID) and idempotent.
 */
export class PodIPAllocator {
  private readonly family: IPFamily;
  private readonly base: bigint;
  /** Usable offsets are 2 … last. */
  private readonly last: bigint;
  private readonly byOwner = new Map<string, bigint>();
  private readonly used = new Set<bigint>();
  private next = 2n;

  constructor(readonly cidr: string) {
    const [ip = '', bitsText = ''] = cidr.split('/');
    const bits = Number(bitsText);
    this.family = ip.includes(':') ? 'IPv6' : 'IPv4';
    const width = this.family === 'IPv4' ? 32 : 128;
    if (!Number.isInteger(bits) || bits < 0 || bits > width) throw new Error(`invalid CIDR ${cidr}`);
    const hostBits = BigInt(width - bits);
    this.base = (ipToBigInt(ip) >> hostBits) << hostBits;
    const size = 1n << hostBits;
    // Cap huge IPv6 ranges: nobody runs more pods than this on a node.
    const capped = size > 1n << 20n ? 1n << 20n : size;
    this.last = this.family === 'IPv4' ? capped - 2n : capped - 1n;
  }

  /** How many addresses are in use. */
  get allocated(): number {
    return this.byOwner.size;
  }

  contains(ip: string): boolean {
    const isV6 = ip.includes(':');
    if (isV6 !== (this.family === 'IPv6')) return false;
    const off = ipToBigInt(ip) - this.base;
    return off >= 2n && off <= this.last;
  }

  /** The owner's address, allocating one if it has none; undefined when the range is full. */
  allocate(owner: string): string | undefined {
    const have = this.byOwner.get(owner);
    if (have !== undefined) return this.toIP(have);
    const span = this.last - 1n;
    for (let i = 0n; i < span; i++) {
      const off = this.next;
      this.next = this.next >= this.last ? 2n : this.next + 1n;
      if (this.used.has(off)) continue;
      this.used.add(off);
      this.byOwner.set(owner, off);
      return this.toIP(off);
    }
    return undefined;
  }

  /** Records an address already in use (a pod adopted after a restart); false if taken or outside. */
  reserve(owner: string, ip: string): boolean {
    if (!this.contains(ip)) return false;
    const off = ipToBigInt(ip) - this.base;
    const holder = [...this.byOwner].find(([, o]) => o === off)?.[0];
    if (holder !== undefined) return holder === owner;
    this.release(owner);
    this.used.add(off);
    this.byOwner.set(owner, off);
    return true;
  }

  release(owner: string): void {
    const off = this.byOwner.get(owner);
    if (off === undefined) return;
    this.byOwner.delete(owner);
    this.used.delete(off);
  }

  private toIP(off: bigint): string {
    return bigIntToIP(this.base + off, this.family);
  }
}
