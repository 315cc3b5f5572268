import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './server.js';

/**
 * `openssl verify`'s answer for a client chain against one trust anchor, as
 * the gateway is asked: TLS client purpose, the anchor trusted as it is
 * (-partial_chain: an anchor need not be self-signed), intermediates untrusted,
 * at security level 2 (-auth_level 2: keys of 112 bits or more, no MD5 or SHA-1
 * signatures but the anchor's own), which certgate's cryptography rule holds too.
 */
export async function opensslVerify(anchorPem: string, leafPem: string, intermediatePems: string[] = []): Promise<{ ok: boolean; output: string }> {
  const dir = tempDir('certgate-openssl-');
  try {
    const file = (name: string, text: string) => {
      writeFileSync(join(dir.path, name), text);
      return join(dir.path, name);
    };
    const args = ['verify', '-auth_level', '2', '-partial_chain', '-purpose', 'sslclient', '-CAfile', file('anchor.pem', anchorPem)];
    if (intermediatePems.length) args.push('-untrusted', file('untrusted.pem', intermediatePems.join('')));
    args.push(file('leaf.pem', leafPem));
    return await new Promise((resolve) => {
      execFile('openssl', args, (err, stdout, stderr) => resolve({ ok: !err, output: `${stdout}${stderr}`.trim() }));
    });
  } finally {
    dir.remove();
  }
}
