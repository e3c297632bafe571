/** How the ingress controller picks a backend: host, then the longest path, Exact before Prefix. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ApiObject } from '../../../src/client/interface.js';
import { IngressRoutes, isOurs } from '../../../src/ingress/ingress-routes.js';

const svc = (name: string, port: number | string = 80) => ({ service: { name, port: typeof port === 'number' ? { number: port } : { name: port } } });
const ingress = (name: string, spec: Record<string, unknown>, created = '2026-11-23T00:00:00Z'): ApiObject => ({ metadata: { name, namespace: 'web', creationTimestamp: created }, spec });

const routes = new IngressRoutes([
  ingress('main', {
    tls: [{ hosts: ['shop.example.com'], secretName: 'shop-tls' }, { secretName: 'fallback-tls' }],
    rules: [
      { host: 'shop.example.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend: svc('shop') }, { path: '/api', pathType: 'Prefix', backend: svc('api', 'http') }, { path: '/api/login', pathType: 'Exact', backend: svc('login') }] } },
      { host: '*.example.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend: svc('wild') }] } },
      { http: { paths: [{ path: '/status', pathType: 'ImplementationSpecific', backend: svc('status') }] } },
    ],
  }),
  ingress('fallback', { defaultBackend: svc('default-404') }, '2026-11-23T00:01:00Z'),
]);
const to = (host: string, path: string): string | undefined => routes.match(host, path)?.service;

test('Prefix matches whole path elements; Exact only the path itself; the longest match wins', () => {
  assert.equal(to('shop.example.com', '/'), 'shop');
  assert.equal(to('shop.example.com', '/api'), 'api');
  assert.equal(to('shop.example.com', '/api/orders'), 'api');
  assert.equal(to('shop.example.com', '/apis'), 'shop', '/api does not match /apis');
  assert.equal(to('shop.example.com', '/api/login'), 'login');
  assert.equal(to('shop.example.com', '/api/login/x'), 'api');
  assert.deepEqual(routes.match('shop.example.com:8443', '/api'), { namespace: 'web', service: 'api', port: 'http' });
});

test('a wildcard host covers one label; rules without a host and the default backend catch the rest', () => {
  assert.equal(to('blog.example.com', '/x'), 'wild');
  assert.equal(to('a.b.example.com', '/x'), 'default-404', 'a wildcard matches one label only');
  assert.equal(to('other.org', '/status/live'), 'status');
  assert.equal(to('other.org', '/'), 'default-404');
});

test('TLS Secrets by server name, with an entry without hosts as the fallback; classes', () => {
  assert.equal(routes.secretFor('shop.example.com'), 'web/shop-tls');
  assert.equal(routes.secretFor('blog.example.com'), 'web/fallback-tls');
  assert.equal(isOurs(ingress('x', { ingressClassName: 'k8ts' }), false), true);
  assert.equal(isOurs(ingress('x', { ingressClassName: 'nginx' }), true), false);
  assert.equal(isOurs(ingress('x', {}), true), true);
  assert.equal(isOurs(ingress('x', {}), false), false);
});
