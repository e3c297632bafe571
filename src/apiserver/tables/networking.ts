/** Printers for networking.k8s.io (ingresses, ingress classes, network policies) and discovery.k8s.io. */

import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import type { Ingress, IngressClass, IngressRule, NetworkPolicy } from 'kubernetes-types/networking/v1.js';
import { translateTimestampSince } from './age.js';
import { loadBalancerAddresses } from './core.js';
import { formatLabelSelector, listWithMore } from './format.js';
import { ageColumn, column, definePrinter, nameColumn, type Printer } from './table.js';

/** `formatHosts`: up to three hosts, `+ N more...` counting every rule, `*` when none. */
function formatHosts(rules: readonly IngressRule[] | undefined): string {
  const all = rules ?? [];
  const max = 3;
  const list: string[] = [];
  let more = false;
  for (const rule of all) {
    if (list.length === max) more = true;
    if (!more && rule.host) list.push(rule.host);
  }
  if (list.length === 0) return '*';
  const text = list.join(',');
  return more ? `${text} + ${all.length - max} more...` : text;
}

const ingressPrinter = definePrinter<Ingress>(
  [
    nameColumn(),
    column('Class', 'string', 'The name of the IngressClass resource that should be used for additional configuration'),
    column('Hosts', 'string', 'Hosts that incoming requests are matched against before the ingress rule'),
    column('Address', 'string', 'Address is a list containing ingress points for the load-balancer'),
    column('Ports', 'string', 'Ports of TLS configurations that open'),
    ageColumn(),
  ],
  (ing, now) => [
    ing.metadata?.name ?? '',
    ing.spec?.ingressClassName ?? '<none>',
    formatHosts(ing.spec?.rules),
    loadBalancerAddresses(ing.status?.loadBalancer?.ingress),
    (ing.spec?.tls ?? []).length > 0 ? '80, 443' : '80',
    translateTimestampSince(ing.metadata?.creationTimestamp, now),
  ],
);

const ingressClassPrinter = definePrinter<IngressClass>(
  [
    nameColumn(),
    column('Controller', 'string', 'Controller that is responsible for handling this class'),
    column('Parameters', 'string', 'A reference to a resource with additional parameters'),
    ageColumn(),
  ],
  (ic, now) => {
    const p = ic.spec?.parameters;
    let parameters = '<none>';
    if (p) parameters = `${p.kind}${p.apiGroup !== undefined ? `.${p.apiGroup}` : ''}/${p.name}`;
    return [ic.metadata?.name ?? '', ic.spec?.controller ?? '', parameters, translateTimestampSince(ic.metadata?.creationTimestamp, now)];
  },
);

const networkPolicyPrinter = definePrinter<NetworkPolicy>(
  [
    nameColumn(),
    column('Pod-Selector', 'string', 'Selects the pods to which this NetworkPolicy object applies.'),
    ageColumn(),
  ],
  (np, now) => [
    np.metadata?.name ?? '',
    // podSelector is a value, not a pointer: an absent one is the empty selector.
    formatLabelSelector(np.spec?.podSelector ?? {}),
    translateTimestampSince(np.metadata?.creationTimestamp, now),
  ],
);

function formatSlicePorts(slice: EndpointSlice): string {
  const ports = slice.ports ?? [];
  const list = ports.map((p) => (p.port !== undefined && p.port !== null ? String(p.port) : p.name !== undefined && p.name !== null ? p.name : '*'));
  return listWithMore(list, ports.length, 3);
}

function formatSliceEndpoints(slice: EndpointSlice): string {
  const addresses = (slice.endpoints ?? []).flatMap((e) => e.addresses ?? []);
  return listWithMore(addresses, addresses.length, 3);
}

const endpointSlicePrinter = definePrinter<EndpointSlice>(
  [
    nameColumn(),
    column('AddressType', 'string', 'addressType specifies the type of address carried by this EndpointSlice.'),
    column('Ports', 'string', 'ports specifies the list of network ports exposed by each endpoint in this slice.'),
    column('Endpoints', 'string', 'endpoints is a list of unique endpoints in this slice.'),
    ageColumn(),
  ],
  (slice, now) => [
    slice.metadata?.name ?? '',
    slice.addressType ?? '',
    formatSlicePorts(slice),
    formatSliceEndpoints(slice),
    translateTimestampSince(slice.metadata?.creationTimestamp, now),
  ],
);

export const printers: Record<string, Printer> = {
  'networking.k8s.io/ingresses': ingressPrinter,
  'networking.k8s.io/ingressclasses': ingressClassPrinter,
  'networking.k8s.io/networkpolicies': networkPolicyPrinter,
  'discovery.k8s.io/endpointslices': endpointSlicePrinter,
};
