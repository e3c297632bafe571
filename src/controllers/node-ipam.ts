import { refs } from '../client/informer.js';
import { isConflict, isNotFound, type ApiObject } from '../client/interface.js';
import { bigIntToIP, ipToBigInt } from '../machinery/ip.js';
import { Controller, type ControllerContext } from './controller.js';

interface NodeSpec {
  podCIDR?: string;
  podCIDRs?: string[];
}

/**
 * Node IPAM (kube-controller-manager's range allocator): every Node gets its own podCIDR, a
 * /24 (nodeCIDRMaskSize) out of `--cluster-cidr`, never one that another node holds.
 */
export class NodeIpamController extends Controller {
  readonly name = 'node-ipam';
  private readonly base: bigint;
  private readonly clusterBits: number;
  private readonly maskSize: number;
  private readonly used = new Set<string>();

  constructor(ctx: ControllerContext) {
    super(ctx);
    const cidr = ctx.options.clusterCIDR ?? '10.42.0.0/16';
    const [ip = '10.42.0.0', bits = '16'] = cidr.split('/');
    this.clusterBits = Number(bits);
    this.maskSize = ctx.options.nodeCIDRMaskSize ?? 24;
    const hostBits = 32 - this.clusterBits;
    this.base = (ipToBigInt(ip) >> BigInt(hostBits)) << BigInt(hostBits);
  }

  private get capacity(): number {
    return 2 ** (this.maskSize - this.clusterBits);
  }

  setup(): void {
    const nodes = this.ctx.informers.for(refs.nodes);
    nodes.addEventHandler({
      onAdd: (n) => {
        this.remember(n);
        this.enqueue(n);
      },
      onUpdate: (_o, n) => {
        this.remember(n);
        this.enqueue(n);
      },
      onDelete: (n) => {
        const cidr = (n['spec'] as NodeSpec | undefined)?.podCIDR;
        if (cidr) this.used.delete(cidr);
      },
    });
  }

  private remember(node: ApiObject): void {
    const cidr = (node['spec'] as NodeSpec | undefined)?.podCIDR;
    if (cidr) this.used.add(cidr);
  }

  private cidrAt(i: number): string {
    const net = this.base + (BigInt(i) << BigInt(32 - this.maskSize));
    return `${bigIntToIP(net, 'IPv4')}/${this.maskSize}`;
  }

  private nextFree(): string | undefined {
    for (let i = 0; i < this.capacity; i++) {
      const cidr = this.cidrAt(i);
      if (!this.used.has(cidr)) return cidr;
    }
    return undefined;
  }

  async reconcile(key: string): Promise<void> {
    const node = this.ctx.informers.for(refs.nodes).getByKey(key);
    if (!node || (node['spec'] as NodeSpec | undefined)?.podCIDR) return;
    // Every known node's range must be in `used` before handing one out.
    await this.ctx.informers.for(refs.nodes).waitForSync();
    const cidr = this.nextFree();
    if (!cidr) {
      this.ctx.recorder('cidrAllocator').event(node, 'Normal', 'CIDRNotAvailable', `Node ${key} status is now: CIDRNotAvailable`);
      throw new Error(`no pod CIDR left in ${this.ctx.options.clusterCIDR ?? '10.42.0.0/16'} for node ${key}`);
    }
    this.used.add(cidr);
    try {
      const fresh = await this.ctx.client.get(refs.nodes, '', key);
      if ((fresh['spec'] as NodeSpec | undefined)?.podCIDR) {
        this.used.delete(cidr);
        return;
      }
      await this.ctx.client.update(refs.nodes, '', { ...fresh, spec: { ...(fresh['spec'] as object), podCIDR: cidr, podCIDRs: [cidr] } });
      this.ctx.recorder('cidrAllocator').event(fresh, 'Normal', 'CIDRAssignmentSucceeded', `Node ${key} has CIDR ${cidr}`);
    } catch (e) {
      this.used.delete(cidr);
      if (isNotFound(e)) return;
      if (isConflict(e)) throw e;
      throw e;
    }
  }
}
