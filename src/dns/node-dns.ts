/**
 * Cluster DNS on a node, in place of CoreDNS pods: a DNS server on the node's pod-bridge address,
 * published as this node's endpoint of the `kube-system/kube-dns` Service. That Service has
 * `internalTrafficPolicy: Local`, so kube-proxy sends each pod's queries to the server of its
 * own node — every node answers for itself (as NodeLocal DNSCache does), no node depends on
 * another. The endpoint lives in an EndpointSlice owned by the Node: it goes with the Node.
 */
import type { ApiObject, Client } from '../client/interface.js';
import { isNotFound } from '../client/interface.js';
import { indexes, refs, type SharedInformer } from '../client/informer.js';
import type { Logger } from '../machinery/logger.js';
import { ClusterRecords } from './cluster-records.js';
import { DnsServer } from './dns-server.js';

export const DNS_SERVICE = { namespace: 'kube-system', name: 'kube-dns' };

/** The `kube-dns` Service the control plane keeps: the cluster DNS address, no selector. */
export function kubeDnsService(clusterDNS: string): ApiObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { ...DNS_SERVICE, labels: { 'k8s-app': 'kube-dns', 'kubernetes.io/cluster-service': 'true', 'kubernetes.io/name': 'KubeDNS' } },
    spec: {
      type: 'ClusterIP',
      clusterIP: clusterDNS,
      clusterIPs: [clusterDNS],
      internalTrafficPolicy: 'Local',
      ports: [
        { name: 'dns', port: 53, protocol: 'UDP', targetPort: 53 },
        { name: 'dns-tcp', port: 53, protocol: 'TCP', targetPort: 53 },
      ],
    },
  };
}

export interface NodeDnsOptions {
  client: Client;
  nodeName: string;
  services: SharedInformer;
  endpointSlices: SharedInformer;
  log: Logger;
  /** Default 53. */
  port?: number;
  /** Upstream resolvers; default: the node's /etc/resolv.conf. */
  upstreams?: string[];
}

export class NodeDns {
  private server: DnsServer | undefined;

  constructor(private readonly o: NodeDnsOptions) {
    o.endpointSlices.addIndexer('serviceName', indexes.serviceName);
  }

  /** Serves on `address` and publishes it as this node's kube-dns endpoint. */
  async start(address: string): Promise<void> {
    await Promise.all([this.o.services.start(), this.o.endpointSlices.start()]);
    const server = new DnsServer({ records: new ClusterRecords(this.o.services, (ns, name) => this.o.endpointSlices.byIndex('serviceName', `${ns}/${name}`)), address, port: this.o.port ?? 53, upstreams: this.o.upstreams });
    const port = await server.start();
    this.server = server;
    await this.publish(address, port);
    this.o.log.info('cluster DNS serving', { address, port });
  }

  async stop(): Promise<void> {
    await this.server?.stop();
  }

  private async publish(address: string, port: number): Promise<void> {
    const node = await this.o.client.get(refs.nodes, '', this.o.nodeName);
    const slice: ApiObject = {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: {
        name: `kube-dns-${this.o.nodeName}`.slice(0, 253),
        namespace: DNS_SERVICE.namespace,
        labels: { 'kubernetes.io/service-name': DNS_SERVICE.name, 'endpointslice.kubernetes.io/managed-by': 'node-dns.k8ts.io' },
        ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: this.o.nodeName, uid: node.metadata?.uid ?? '' }],
      },
      addressType: 'IPv4',
      endpoints: [{ addresses: [address], conditions: { ready: true, serving: true, terminating: false }, nodeName: this.o.nodeName }],
      ports: [
        { name: 'dns', port, protocol: 'UDP' },
        { name: 'dns-tcp', port, protocol: 'TCP' },
      ],
    };
    const ref = refs.endpointslices;
    try {
      const current = await this.o.client.get(ref, DNS_SERVICE.namespace, slice.metadata!.name!);
      await this.o.client.update(ref, DNS_SERVICE.namespace, { ...slice, metadata: { ...slice.metadata, resourceVersion: current.metadata?.resourceVersion } });
    } catch (e) {
      if (!isNotFound(e)) throw e;
      await this.o.client.create(ref, DNS_SERVICE.namespace, slice);
    }
  }
}
