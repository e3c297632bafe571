/**
 * A fixed-size set of offsets kept as a bitmap, with Kubernetes' allocation strategy: a random
 * starting point, then a linear scan to the next free offset, so concurrent allocators rarely
 * collide and the range fills evenly. Everything is synchronous: in one process, a check and a
 * set cannot interleave with another request.
 */
export class AllocationBitmap {
  private readonly bits: Uint8Array;
  private count = 0;

  constructor(
    readonly size: number,
    private readonly random: () => number = Math.random,
  ) {
    this.bits = new Uint8Array(Math.ceil(size / 8));
  }

  has(offset: number): boolean {
    if (offset < 0 || offset >= this.size) return false;
    return ((this.bits[offset >> 3] ?? 0) & (1 << (offset & 7))) !== 0;
  }

  /** Marks `offset` used; false if it already was. */
  allocate(offset: number): boolean {
    if (offset < 0 || offset >= this.size || this.has(offset)) return false;
    this.bits[offset >> 3] = (this.bits[offset >> 3] ?? 0) | (1 << (offset & 7));
    this.count++;
    return true;
  }

  release(offset: number): void {
    if (!this.has(offset)) return;
    this.bits[offset >> 3] = (this.bits[offset >> 3] ?? 0) & ~(1 << (offset & 7));
    this.count--;
  }

  /** Allocates a free offset in [from, to) — random start, then wrap-around scan; undefined if none. */
  allocateIn(from: number, to: number, skip?: (offset: number) => boolean): number | undefined {
    const lo = Math.max(0, from);
    const hi = Math.min(this.size, to);
    const span = hi - lo;
    if (span <= 0) return undefined;
    const start = Math.floor(this.random() * span) % span;
    for (let i = 0; i < span; i++) {
      const offset = lo + ((start + i) % span);
      if (skip?.(offset)) continue;
      if (this.allocate(offset)) return offset;
    }
    return undefined;
  }

  used(): number {
    return this.count;
  }
}
