import { randomBytes } from 'node:crypto';

// Request ids are drawn from a pooled random buffer: one system call per 512 ids, not one per request.
const ID_BYTES = 12;
const ID_POOL = ID_BYTES * 512;
let idPool = randomBytes(ID_POOL);
let idOffset = 0;

export function newRequestId(): string {
  if (idOffset === ID_POOL) {
    idPool = randomBytes(ID_POOL);
    idOffset = 0;
  }
  const id = idPool.toString('hex', idOffset, idOffset + ID_BYTES);
  idOffset += ID_BYTES;
  return `req_${id}`;
}
