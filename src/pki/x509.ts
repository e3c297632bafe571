/**
 * The one door to @peculiar/x509: it needs the reflect-metadata polyfill before it loads and
 * Node's WebCrypto as its provider. Every other file imports `./x509.js`, never the package.
 */
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

export * from '@peculiar/x509';
