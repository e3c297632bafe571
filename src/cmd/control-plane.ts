import { join } from 'node:path';
import type { Backend } from '../store/backend.js';
import type { Logger } from '../machinery/logger.js';
import { issueClientCertificate, type ClusterCertificates } from '../pki/certificate-authority.js';
import { ApiServer } from '../apiserver/api-server.js';
import { SchemaIndex, loadBuiltinDefinitions } from '../apiserver/schema-index.js';
import { ServiceAccountTokens } from '../apiserver/auth/service-account-tokens.js';
import { ClientCertificateAuthenticator, SERVER_TOKEN_USER, TokenAuthenticator, requestAuthenticator } from '../apiserver/auth/authenticator.js';
import { AlwaysAllowAuthenticatedAuthorizer } from '../apiserver/auth/authorizer.js';
import { NamespaceController } from '../controllers/namespace.js';
import { ControllerManager } from '../controllers/controller-manager.js';
import type { ControllerOptions } from '../controllers/controller.js';
import { builtinControllers } from './controllers.js';
import { parseJoinToken } from './join-token.js';
import { Scheduler } from '../scheduler/scheduler.js';
import { LeaderElector } from '../client/leader-election.js';
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import { builtinStrategies } from '../apiserver/registry/resources/index.js';
import { createMachineryAdapters } from '../apiserver/machinery-adapters.js';

import { OpenAPIPublisher } from '../apiserver/openapi/publish.js';
import { kubernetesVersion } from '../apiserver/version.js';
import { CustomResourceServing } from '../apiserver/crd/custom-resource-serving.js';
import { PodAdmission } from '../apiserver/admission/pod-admission.js';
import { LimitRanger } from '../apiserver/admission/limit-ranger.js';
import { DefaultStorageClass } from '../apiserver/admission/default-storage-class.js';
import { ResourceQuotaAdmission, registryLookup } from '../apiserver/admission/resource-quota.js';
import { serveOpenAPI } from '../apiserver/openapi-service.js';
import { KubeletLogProxy, KubeletStreamProxy, type KubeletCredentials } from '../apiserver/kubelet-proxy.js';
import type { KubeObject } from '../apiserver/registry/strategy.js';
import { isNotFound, type ApiObject, type Client, type ResourceRef } from '../client/interface.js';
import { refs } from '../client/informer.js';
import { kubeDnsService } from '../dns/node-dns.js';
import { defaultIngressClass } from '../ingress/ingress-routes.js';

export interface ControlPlaneOptions {
  backend: Backend;
  dataDir: string;
  certs: ClusterCertificates;
  /** The join token (or its bare secret): both work as a bearer token that authenticates as the server itself. */
  token: string;
  bindAddress: string;
  port: number;
  advertiseAddress: string;
  serviceCIDR: string;
  kubernetesServiceIP: string;
  /** `--cluster-dns`: the `kube-system/kube-dns` Service gets this ClusterIP. */
  clusterDNS?: string;
  nodePortRange?: [number, number];
  logger: Logger;
  now?: () => Date;
  /** Settings the controllers read (CIDRs, node monitor periods …). */
  controllerOptions?: ControllerOptions;
  /** tolerationSeconds of the not-ready/unreachable tolerations every pod gets (Kubernetes: 300). */
  defaultTolerationSeconds?: number;
  /** Run no controllers (API server only: tests of the API layer). */
  disableControllers?: boolean;
}

export interface ControlPlane {
  apiServer: ApiServer;
  /** The controllers' shared informers (also used by the scheduler and in-process nodes). */
  controllers: ControllerManager | undefined;
  /** The port actually listened on (useful with port 0). */
  port: number;
  /** How the API server authenticates to kubelets (logs, exec, metrics). */
  kubeletCredentials: KubeletCredentials;
  stop(): Promise<void>;
}

/**
 * An object every cluster has (the cluster DNS Service, the default IngressClass), created when
 * missing; an existing one is left as it is (a user may have changed it).
 */
async function ensureObject(client: Client, ref: ResourceRef, obj: ApiObject, log: Logger, consequence: string): Promise<void> {
  const ns = obj.metadata?.namespace ?? '';
  try {
    await client.get(ref, ns, obj.metadata?.name ?? '');
  } catch (e) {
    if (!isNotFound(e)) throw e;
    await client.create(ref, ns, obj).catch((err: unknown) => log.error(`could not create ${ref.resource} ${obj.metadata?.name}; ${consequence}`, { err: (err as Error).message }));
  }
}

/**
 * Assembles and starts the control plane inside `k8ts server`: the API server with every
 * built-in resource, custom resources, and the controllers that belong to the API layer.
 */
export async function startControlPlane(opts: ControlPlaneOptions): Promise<ControlPlane> {
  const log = opts.logger;
  const definitions = loadBuiltinDefinitions();
  const schemas = new SchemaIndex(definitions);
  const tokens = await ServiceAccountTokens.loadOrCreate(join(opts.certs.dir, 'service.key'));
  const { strategies, converters, init } = builtinStrategies({
    serviceCIDR: opts.serviceCIDR,
    nodePortRange: opts.nodePortRange ?? [30000, 32767],
    backend: opts.backend,
  });
  await init();
  const machinery = createMachineryAdapters(schemas);
  let apiServer: ApiServer | undefined;
  const openapi = new OpenAPIPublisher({
    definitions,
    version: `v${kubernetesVersion.major}.${kubernetesVersion.minor}.${kubernetesVersion.patch}`,
    resources: () =>
      (apiServer?.registry.descriptors() ?? []).flatMap((d) =>
        d.versions.map((version) => ({
          group: d.group,
          version,
          resource: d.resource,
          kind: d.kind,
          namespaced: d.namespaced,
          verbs: d.verbs ?? ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
          subresources: d.subresources ?? [],
        })),
      ),
  });
  schemas.onCustomChange(() => openapi.setCustomResources(schemas.customSchemas()));
  const lookup = (group: string, resource: string, ns: string): ReturnType<ReturnType<typeof registryLookup>> =>
    apiServer ? registryLookup(apiServer.registry)(group, resource, ns) : Promise.resolve([]);
  apiServer = new ApiServer({
    backend: opts.backend,
    tls: { cert: opts.certs.serving.certPem, key: opts.certs.serving.keyPem, clientCA: opts.certs.clientCa.certPem },
    bindAddress: opts.bindAddress,
    port: opts.port,
    advertiseAddress: opts.advertiseAddress,
    cacerts: opts.certs.serverCa.certPem,
    clientCACert: opts.certs.clientCa.certPem,
    authenticator: requestAuthenticator(
      [new ClientCertificateAuthenticator(opts.certs.clientCa.certPem), new TokenAuthenticator({ [opts.token]: SERVER_TOKEN_USER, [parseJoinToken(opts.token).secret]: SERVER_TOKEN_USER })],
      { anonymous: false },
    ),
    tokens,
    authorizer: new AlwaysAllowAuthenticatedAuthorizer(),
    strategies,
    converters,
    schemas,
    tables: machinery.tables,
    patcher: machinery.patcher,
    applier: machinery.applier,
    ownership: machinery.ownership,
    openapi: serveOpenAPI(openapi),
    logger: log.child('apiserver'),
    admission: [
      new PodAdmission(() => apiServer?.registry.byGroup('scheduling.k8s.io', 'priorityclasses')?.store, opts.defaultTolerationSeconds),
      // As Kubernetes orders them: LimitRanger defaults resources before ResourceQuota counts them.
      new LimitRanger((ns) => lookup('', 'limitranges', ns)),
      new DefaultStorageClass(() => lookup('storage.k8s.io', 'storageclasses', '')),
      new ResourceQuotaAdmission(lookup, opts.now),
    ],
    now: opts.now,
  });
  const server = apiServer;
  const nodeLookup = (name: string): Promise<KubeObject | undefined> => server.served('', 'nodes').store.tryGet('', name);
  const kubeletClient = await issueClientCertificate(opts.certs.clientCa, { commonName: 'kube-apiserver-kubelet-client', organizations: ['system:masters'] });
  const kubeletCredentials = { token: parseJoinToken(opts.token).secret, cert: kubeletClient.certPem, key: kubeletClient.keyPem };
  server.setLogSource(new KubeletLogProxy(nodeLookup, kubeletCredentials));
  server.setStreamTarget(new KubeletStreamProxy(nodeLookup, kubeletCredentials));
  const address = await server.listen();
  await server.bootstrap(opts.kubernetesServiceIP);
  if (opts.clusterDNS) await ensureObject(server.client, refs.services, kubeDnsService(opts.clusterDNS), log, 'cluster DNS will not work');
  await ensureObject(server.client, refs.ingressclasses, defaultIngressClass(), log, 'Ingresses without a class will not be served');
  const crds = new CustomResourceServing({
    registry: server.registry,
    backend: opts.backend,
    schemas,
    admission: server.admissionChain,
    ownership: machinery.ownership,
    now: opts.now,
    logger: log.child('crd'),
  });
  machinery.setCustomPrinters((served) => crds.printerFor(served));
  const builtinScale = server.scalePaths;
  server.scalePaths = (served) => (served.crdName ? crds.scalePaths(served) : builtinScale(served));
  server.addReadyCheck('poststarthook/crd-informer-synced', () => crds.ready);
  await crds.start();
  const namespaces = new NamespaceController(server.client, { log: (msg, fields) => log.child('namespace-controller').info(msg, fields) });
  await namespaces.start();
  // Controllers and scheduler run only on the server holding the lease, so a second server on
  // the same etcd stands by and takes over when the leader stops.
  let controllers: ControllerManager | undefined;
  let scheduler: Scheduler | undefined;
  let elector: LeaderElector | undefined;
  const startLeading = async (): Promise<void> => {
    controllers = new ControllerManager({ client: server.client, registry: builtinControllers(), options: { storageDir: join(opts.dataDir, 'storage'), ...opts.controllerOptions, caPem: opts.certs.serverCa.certPem }, log: log.child('controller-manager') });
    await controllers.start();
    const ctx = controllers.context();
    scheduler = new Scheduler({ client: ctx.client, informers: ctx.informers, recorder: ctx.recorder, clock: ctx.clock, log: log.child('scheduler') }, {});
    await scheduler.start();
    log.info('leading: controllers and scheduler started', { identity });
  };
  const stopLeading = async (): Promise<void> => {
    await scheduler?.stop();
    controllers?.stop();
    scheduler = undefined;
    controllers = undefined;
  };
  const identity = `${hostname()}_${randomUUID()}`;
  let stopping = false;
  if (!opts.disableControllers) {
    let leading!: () => void;
    const firstTerm = new Promise<void>((resolve) => (leading = resolve));
    elector = new LeaderElector({
      client: server.client,
      namespace: 'kube-system',
      name: 'k8ts-controller-manager',
      identity,
      onStartedLeading: () => {
        void startLeading().then(leading, (e: unknown) => log.error('controllers failed to start', { error: String(e) }));
      },
      onStoppedLeading: () => {
        if (stopping) log.info('released the controller lease', { identity });
        else log.warn('lost the controller lease; standing by', { identity });
        void stopLeading();
      },
    });
    void elector.run();
    // A lone server leads at once; with another leader alive, serve the API and stand by.
    await Promise.race([firstTerm, new Promise((r) => setTimeout(r, 3000).unref())]);
  }
  server.markReady();
  return {
    apiServer: server,
    get controllers() {
      return controllers;
    },
    port: address.port,
    kubeletCredentials,
    async stop() {
      stopping = true;
      await elector?.stop();
      await stopLeading();
      namespaces.stop();
      crds.stop();
      await server.close();
    },
  };
}
