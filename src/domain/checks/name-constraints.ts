import type { CertificateFacts } from '../x509/certificate.js';
import { AttributeOid, attributeValues, type DistinguishedName, type GeneralName, type NameConstraints } from '../x509/names.js';

// Name Constraints (RFC 5280 §4.2.1.10), matched as OpenSSL matches them, so
// that certgate and `openssl verify` agree on every path:
// - dNSName: the name equals the base or ends with it at a label boundary; a
//   base starting with "." matches only names below it. Case-insensitive.
// - rfc822Name: a base with "@" is one mailbox; a base starting with "." is
//   any host below that domain; any other base is one host exactly.
// - URI: the same host rules as rfc822Name, on the URI's host.
// - iPAddress: the address within the base's address and mask.
// - directoryName: the base's RDNs are the first RDNs of the name.
// Names of kinds certgate cannot compare (otherName, x400, ediParty,
// registeredID) are refused when a constraint of that kind exists.

const KINDS_MATCHED = new Set<GeneralName['kind']>(['dns', 'email', 'uri', 'ip', 'directory']);

/** The kinds of constraint bases certgate does not evaluate (refused on an anchor at upload). */
export function unsupportedConstraintKinds(constraints: NameConstraints): string[] {
  const kinds = new Set<string>();
  for (const base of [...constraints.permitted, ...constraints.excluded]) if (!KINDS_MATCHED.has(base.kind)) kinds.add(base.kind);
  return [...kinds];
}

const lower = (s: string) => s.toLowerCase();

function hostMatches(host: string, base: string): boolean {
  if (base.startsWith('.')) return host.length > base.length && lower(host).endsWith(lower(base));
  return lower(host) === lower(base);
}

function dnsMatches(name: string, base: string): boolean {
  if (base.length === 0) return true;
  if (name.length < base.length) return false;
  const tail = name.slice(name.length - base.length);
  if (name.length > base.length && !base.startsWith('.') && name[name.length - base.length - 1] !== '.') return false;
  return lower(tail) === lower(base);
}

function emailMatches(address: string, base: string): boolean {
  const at = address.lastIndexOf('@');
  if (at < 0) return false;
  if (base.includes('@')) {
    const baseAt = base.lastIndexOf('@');
    return address.slice(0, at) === base.slice(0, baseAt) && lower(address.slice(at + 1)) === lower(base.slice(baseAt + 1));
  }
  return hostMatches(address.slice(at + 1), base);
}

function uriHost(uri: string): string | undefined {
  const scheme = uri.indexOf('://');
  if (scheme < 0) return undefined;
  const rest = uri.slice(scheme + 3);
  const end = rest.search(/[:/?#]/);
  const host = end < 0 ? rest : rest.slice(0, end);
  return host.length > 0 ? host : undefined;
}

function ipMatches(octets: Buffer, base: Buffer): boolean {
  const half = base.length / 2;
  if (octets.length !== half) return false;
  for (let i = 0; i < half; i++) if ((octets[i]! & base[half + i]!) !== (base[i]! & base[half + i]!)) return false;
  return true;
}

/** RFC 5280 §7.1 comparison, simplified as OpenSSL's canonical form: case-folded, inner whitespace collapsed. */
function canonical(value: string): string {
  return value.trim().replace(/\s+/g, ' ').toLowerCase();
}

function directoryMatches(name: DistinguishedName, base: DistinguishedName): boolean {
  if (base.length > name.length) return false;
  return base.every((rdn, i) => {
    const other = name[i]!;
    return rdn.length === other.length && rdn.every((a, j) => a.oid === other[j]!.oid && canonical(a.value) === canonical(other[j]!.value));
  });
}

/** Does `name` fall within `base`? undefined when the two are of different kinds. */
function within(name: GeneralName, base: GeneralName): boolean | undefined {
  if (name.kind !== base.kind) return undefined;
  switch (name.kind) {
    case 'dns':
      return dnsMatches(name.value, base.value);
    case 'email':
      return emailMatches(name.value, base.value);
    case 'uri': {
      const host = uriHost(name.value);
      return host !== undefined && hostMatches(host, base.value);
    }
    case 'ip':
      return base.kind === 'ip' && ipMatches(name.octets, base.octets);
    case 'directory':
      return base.kind === 'directory' && directoryMatches(name.name, base.name);
    default:
      return undefined;
  }
}

/** OpenSSL reads a leaf's common name as a DNS name only when it looks like one (letters, digits, "-", "_", and a dot). */
function commonNameAsDns(cn: string): boolean {
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]*[A-Za-z0-9_]$/.test(cn)) return false;
  return /[^.-]\.[^.-]/.test(cn) && !cn.includes('..');
}

/** Every name of a certificate that name constraints apply to. */
export function constrainedNames(cert: CertificateFacts, isLeaf: boolean): GeneralName[] {
  const names: GeneralName[] = [...cert.subjectAltNames];
  if (cert.subjectName.length > 0) {
    names.push({ kind: 'directory', name: cert.subjectName, value: cert.subject });
    for (const email of attributeValues(cert.subjectName, AttributeOid.emailAddress)) names.push({ kind: 'email', value: email });
  }
  if (isLeaf && !cert.subjectAltNames.some((n) => n.kind === 'dns')) {
    for (const cn of attributeValues(cert.subjectName, AttributeOid.commonName)) if (commonNameAsDns(cn)) names.push({ kind: 'dns', value: cn });
  }
  return names;
}

/** The first name that breaks the constraints, with how; undefined when all hold. */
export function nameConstraintViolation(names: readonly GeneralName[], constraints: NameConstraints): string | undefined {
  for (const name of names) {
    const permitted = constraints.permitted.filter((base) => base.kind === name.kind);
    const excluded = constraints.excluded.filter((base) => base.kind === name.kind);
    if (!KINDS_MATCHED.has(name.kind) && (permitted.length > 0 || excluded.length > 0)) {
      return `a ${name.kind} name, which name constraints cannot be checked against`;
    }
    if (permitted.length > 0 && !permitted.some((base) => within(name, base))) return `${describe(name)} is outside the permitted subtrees`;
    const hit = excluded.find((base) => within(name, base));
    if (hit) return `${describe(name)} is within an excluded subtree`;
  }
  return undefined;
}

function describe(name: GeneralName): string {
  const label = { dns: 'DNS name', email: 'email address', uri: 'URI', ip: 'IP address', directory: 'subject name' }[name.kind as string] ?? name.kind;
  return `${label} ${JSON.stringify(name.value)}`;
}
