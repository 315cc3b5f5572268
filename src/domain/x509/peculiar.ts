import { webcrypto } from 'node:crypto';
import { createRequire } from 'node:module';
import type * as X509 from '@peculiar/x509';

// @peculiar/x509 (with asn1js, tsyringe and reflect-metadata: some 0.1 CPU-s and 10 MiB to load) loaded when a
// CRL is first read, not when a process starts: the gate reads one only for an anchor that has one. Its
// package is CommonJS whichever way it is loaded, so this require() and an `import` elsewhere share one copy.

let loaded: typeof X509 | undefined;

export function peculiar(): typeof X509 {
  if (!loaded) {
    const require = createRequire(import.meta.url);
    require('reflect-metadata'); // tsyringe, which @peculiar/x509 uses, needs it first
    loaded = require('@peculiar/x509') as typeof X509;
    loaded.cryptoProvider.set(webcrypto as unknown as Crypto);
  }
  return loaded;
}
