/**
 * The pod network of one node, as CNI configuration: a Linux bridge with the node's pod range
 * (host-local IPAM), hairpin mode so a pod reaches
 * itself through a Service, and portmap for hostPort.
 */
import { mkdirSync, writeFileSync, readFileSync, existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

export const CNI_NETWORK_NAME = 'k8ts';
export const CNI_BRIDGE = 'k8ts0';

export function cniConflist(podCIDR: string, ipamDataDir: string, bridge = CNI_BRIDGE): Record<string, unknown> {
  return {
    cniVersion: '1.0.0',
    name: CNI_NETWORK_NAME,
    plugins: [
      {
        type: 'bridge',
        bridge,
        isGateway: true,
        // Masquerading is the pod network's (src/network): only traffic that leaves the cluster's pods.
        ipMasq: false,
        hairpinMode: true,
        ipam: { type: 'host-local', ranges: [[{ subnet: podCIDR }]], routes: [{ dst: '0.0.0.0/0' }], dataDir: ipamDataDir },
      },
      { type: 'portmap', capabilities: { portMappings: true }, snat: true },
    ],
  };
}

/** The gateway address the bridge plugin gives the bridge: the range's first address. */
export function gatewayOf(podCIDR: string): string {
  const [ip, bits] = podCIDR.split('/');
  const parts = (ip ?? '').split('.').map(Number);
  parts[3] = (parts[3] ?? 0) + 1;
  return `${parts.join('.')}/${bits ?? '24'}`;
}

/**
 * A bridge left by an earlier cluster with another range makes the bridge plugin fail ("already
 * has an IP address different from …"); its pods are gone with that cluster, so it is removed.
 */
export function removeStaleBridge(bridge: string, podCIDR: string): boolean {
  let addrs: Array<{ addr_info?: Array<{ family: string; local: string; prefixlen: number }> }>;
  try {
    addrs = JSON.parse(execFileSync('ip', ['-j', 'addr', 'show', 'dev', bridge], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })) as typeof addrs;
  } catch {
    return false; // no such bridge
  }
  const v4 = (addrs[0]?.addr_info ?? []).filter((a) => a.family === 'inet').map((a) => `${a.local}/${a.prefixlen}`);
  if (!v4.length || v4.includes(gatewayOf(podCIDR))) return false;
  execFileSync('ip', ['link', 'del', bridge]);
  return true;
}

/**
 * Makes the bridge with its gateway address before the first pod does, so node services that
 * pods reach on the gateway (cluster DNS) can listen from the start. The bridge plugin takes a
 * bridge that already has the right address as its own.
 */
export function ensureBridge(bridge: string, podCIDR: string): string {
  const gateway = gatewayOf(podCIDR);
  const ip = (...args: string[]): string => execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    ip('link', 'show', 'dev', bridge);
  } catch {
    ip('link', 'add', 'name', bridge, 'type', 'bridge');
  }
  if (!ip('-o', '-4', 'addr', 'show', 'dev', bridge).includes(` ${gateway} `)) ip('addr', 'add', gateway, 'dev', bridge);
  ip('link', 'set', bridge, 'up');
  return gateway.split('/')[0]!;
}

/** Writes (or rewrites, if the range changed) `10-k8ts.conflist`; containerd picks it up. */
export function writeCniConfig(confDir: string, podCIDR: string, ipamDataDir: string, bridge = CNI_BRIDGE): string {
  mkdirSync(confDir, { recursive: true });
  removeStaleBridge(bridge, podCIDR);
  const file = join(confDir, '10-k8ts.conflist');
  const text = JSON.stringify(cniConflist(podCIDR, ipamDataDir, bridge), null, 2) + '\n';
  if (!existsSync(file) || readFileSync(file, 'utf8') !== text) writeFileSync(file, text);
  return file;
}
