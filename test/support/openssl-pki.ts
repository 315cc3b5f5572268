// Certificates made by the openssl CLI at test time, for what WebCrypto cannot make: small RSA keys, DSA, small
// curves, MD5 and SHA-1 signatures. Keys live in a temporary directory for the length of one call, never in the
// repository.
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { tempDir } from './server.js';

const run = promisify(execFile);

/** 'rsa:<bits>', 'rsa-pss:<bits>', 'ec:<curve>' (or 'ec:<curve>:explicit', its parameters spelled out), 'dsa:<bits>', 'ed25519', 'ed448' */
export type OpensslKey = `rsa:${number}` | `rsa-pss:${number}` | `ec:${string}` | `dsa:${number}` | 'ed25519' | 'ed448';

export interface OpensslIssued {
  readonly pem: string;
  /** PKCS#8 private key as PEM */
  readonly keyPem: string;
  readonly key: OpensslKey;
}

export interface OpensslOptions {
  readonly name: string;
  readonly key: OpensslKey;
  /** signed by this one (its key must be PEM); self-signed when absent */
  readonly issuer?: { readonly pem: string; readonly keyPem: string; readonly key?: OpensslKey };
  /** a CA (Basic Constraints CA:TRUE, Certificate Sign and CRL Sign) rather than a TLS client certificate */
  readonly ca?: boolean;
  /** the digest the issuer signs with: sha256 unless given; ignored for EdDSA issuers */
  readonly digest?: 'md5' | 'sha1' | 'sha224' | 'sha256' | 'sha384';
  /** sign with RSASSA-PSS (an RSA issuer) */
  readonly pss?: boolean;
}

const dsaParameters = new Map<number, Promise<string>>();

async function generateKey(dir: string, key: OpensslKey): Promise<string> {
  const file = join(dir, 'subject.key');
  const [kind, size, encoding] = key.split(':') as [string, string | undefined, string | undefined];
  if (kind === 'dsa') {
    // DSA parameters take seconds to make: once per size per test process
    const bits = Number(size);
    if (!dsaParameters.has(bits)) {
      const params = join(dir, 'dsa-params.pem');
      dsaParameters.set(bits, run('openssl', ['genpkey', '-genparam', '-algorithm', 'DSA', '-pkeyopt', `dsa_paramgen_bits:${bits}`, '-out', params]).then(() => readFileSync(params, 'utf8')));
    }
    writeFileSync(join(dir, 'dsa.pem'), await dsaParameters.get(bits)!);
    await run('openssl', ['genpkey', '-paramfile', join(dir, 'dsa.pem'), '-out', file]);
  } else if (kind === 'rsa' || kind === 'rsa-pss') {
    await run('openssl', ['genpkey', '-algorithm', kind === 'rsa' ? 'RSA' : 'RSA-PSS', '-pkeyopt', `rsa_keygen_bits:${size}`, '-out', file]);
  } else if (kind === 'ec') {
    await run('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', `ec_paramgen_curve:${size}`, '-pkeyopt', `ec_param_enc:${encoding ?? 'named_curve'}`, '-out', file]);
  } else {
    await run('openssl', ['genpkey', '-algorithm', kind.toUpperCase(), '-out', file]);
  }
  return file;
}

/** One certificate, as `openssl req -x509` makes it, with the extensions certgate's rules ask for. */
export async function opensslIssue(options: OpensslOptions): Promise<OpensslIssued> {
  const dir = tempDir('certgate-openssl-pki-');
  try {
    const keyFile = await generateKey(dir.path, options.key);
    const rsaLeaf = options.key.startsWith('rsa');
    const extensions = options.ca
      ? ['basicConstraints = critical,CA:TRUE', 'keyUsage = critical,keyCertSign,cRLSign']
      : ['basicConstraints = critical,CA:FALSE', `keyUsage = critical,digitalSignature${rsaLeaf ? ',keyEncipherment' : ''}`, 'extendedKeyUsage = clientAuth'];
    extensions.push('subjectKeyIdentifier = hash', 'authorityKeyIdentifier = keyid:always');
    const config = join(dir.path, 'openssl.cnf');
    writeFileSync(config, ['[req]', 'distinguished_name = dn', '[dn]', '[ext]', ...extensions, ''].join('\n'));
    const args = ['req', '-new', '-x509', '-config', config, '-extensions', 'ext', '-key', keyFile, '-subj', `/CN=${options.name}`, '-days', '30'];
    if (options.issuer) {
      writeFileSync(join(dir.path, 'issuer.pem'), options.issuer.pem);
      writeFileSync(join(dir.path, 'issuer.key'), options.issuer.keyPem);
      args.push('-CA', join(dir.path, 'issuer.pem'), '-CAkey', join(dir.path, 'issuer.key'));
    }
    const signer = options.issuer ? options.issuer.key : options.key;
    if (!signer?.startsWith('ed')) args.push(`-${options.digest ?? 'sha256'}`);
    if (options.pss) args.push('-sigopt', 'rsa_padding_mode:pss', '-sigopt', 'rsa_pss_saltlen:digest');
    const { stdout } = await run('openssl', [...args, '-out', '-']);
    const keyPem = readFileSync(keyFile, 'utf8');
    return { pem: stdout, keyPem, key: options.key };
  } finally {
    dir.remove();
  }
}
