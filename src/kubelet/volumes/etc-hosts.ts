/**
 * The pod's /etc/hosts, which the kubelet writes and mounts into every container (Kubernetes'
 * ensureHostsFile): localhost entries, the pod's IPs with its hostname (and FQDN when it has a
 * subdomain), then `spec.hostAliases`. A hostNetwork pod gets the node's own file instead.
 */
import { readFile } from 'node:fs/promises';
import type { HostAlias, Pod } from 'kubernetes-types/core/v1.js';

const managedHeader = '# Kubernetes-managed hosts file.\n';
const hostNetworkHeader = '# Kubernetes-managed hosts file (host network).\n';

function aliasEntries(aliases: HostAlias[] | undefined): string {
  if (!aliases?.length) return '';
  let out = '\n# Entries added by HostAliases.\n';
  for (const a of aliases) out += `${a.ip ?? ''}\t${(a.hostnames ?? []).join('\t')}\n`;
  return out;
}

/** The pod's hostname (spec.hostname, else its name cut to 63 characters) and domain (`<subdomain>.<ns>.svc.<clusterDomain>`). */
export function podHostname(pod: Pod, clusterDomain: string): { hostname: string; domain: string } {
  let hostname = pod.spec?.hostname || (pod.metadata?.name ?? '');
  if (hostname.length > 63) hostname = hostname.slice(0, 63).replace(/[-.]+$/, '');
  const sub = pod.spec?.subdomain;
  return { hostname, domain: sub ? `${sub}.${pod.metadata?.namespace ?? ''}.svc.${clusterDomain}` : '' };
}

/** The managed file of a pod with its own network. */
export function managedHostsContent(podIPs: string[], hostname: string, domain: string, aliases: HostAlias[] | undefined): string {
  let out = managedHeader;
  out += '127.0.0.1\tlocalhost\n';
  out += '::1\tlocalhost ip6-localhost ip6-loopback\n';
  out += 'fe00::0\tip6-localnet\n';
  out += 'fe00::0\tip6-mcastprefix\n';
  out += 'fe00::1\tip6-allnodes\n';
  out += 'fe00::2\tip6-allrouters\n';
  for (const ip of podIPs) out += domain ? `${ip}\t${hostname}.${domain}\t${hostname}\n` : `${ip}\t${hostname}\n`;
  return out + aliasEntries(aliases);
}

/** The file of a hostNetwork pod: the node's /etc/hosts, then the aliases. */
export async function hostNetworkHostsContent(aliases: HostAlias[] | undefined, nodeHostsFile = '/etc/hosts'): Promise<string> {
  const node = await readFile(nodeHostsFile, 'utf8').catch(() => '');
  return hostNetworkHeader + node + aliasEntries(aliases);
}

/** What the pod's /etc/hosts holds. */
export async function hostsFileContent(pod: Pod, podIPs: string[], clusterDomain: string): Promise<string> {
  if (pod.spec?.hostNetwork) return hostNetworkHostsContent(pod.spec.hostAliases);
  const { hostname, domain } = podHostname(pod, clusterDomain);
  return managedHostsContent(podIPs, hostname, domain, pod.spec?.hostAliases);
}
