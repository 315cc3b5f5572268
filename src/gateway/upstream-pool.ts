import { createRequire } from 'node:module';
import type * as Undici from 'undici';

// undici's Pool without the rest of undici. Its index loads every dispatcher, fetch, WebSocket, the caches and the
// mocks (some 110 modules: about 60 CPU-ms more at start and 9 MiB more RSS, measured on Node 20), where the gateway
// uses one Pool and its stream(). The index adds stream() and the other request methods to every dispatcher's
// prototype; here the Pool is given stream() alone, the very function the index would give it. Should a later
// undici move these files, the whole index is loaded instead: slower to start, the same behaviour.

const require = createRequire(import.meta.url);

function load(): typeof Undici.Pool {
  let Pool: typeof Undici.Pool;
  let stream: Undici.Pool['stream'];
  try {
    Pool = require('undici/lib/dispatcher/pool.js') as typeof Undici.Pool;
    stream = require('undici/lib/api/api-stream.js') as Undici.Pool['stream'];
  } catch {
    return (require('undici') as typeof Undici).Pool;
  }
  if (typeof Pool !== 'function' || typeof stream !== 'function') return (require('undici') as typeof Undici).Pool;
  class UpstreamPool extends Pool {}
  Object.defineProperty(UpstreamPool.prototype, 'stream', { value: stream, writable: true, configurable: true });
  return UpstreamPool;
}

export const Pool = load();
export type Pool = Undici.Pool;
