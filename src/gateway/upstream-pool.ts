import { createRequire } from 'node:module';
import type * as Undici from 'undici';

// undici's Pool without the rest of undici. Its index loads every dispatcher, fetch, WebSocket, the caches and the
// mocks (some 110 modules: about 60 CPU-ms more at start and 9 MiB more RSS, measured on Node 20), where the gateway
// uses one Pool and its dispatch(), which the Pool has of its own (the index only adds request(), stream() and the
// other convenience methods to the prototype). Should a later undici move this file, the whole index is loaded
// instead: slower to start, the same behaviour.

const require = createRequire(import.meta.url);

function load(): typeof Undici.Pool {
  try {
    const Pool = require('undici/lib/dispatcher/pool.js') as typeof Undici.Pool;
    if (typeof Pool === 'function' && typeof Pool.prototype.dispatch === 'function') return Pool;
  } catch {
    // moved: the index below
  }
  return (require('undici') as typeof Undici).Pool;
}

export const Pool = load();
export type Pool = Undici.Pool;
