import { bytes, children, DerError, readAscii, readOid, readSmallUnsigned, readString, readTlv, Tag, type Tlv } from './der.js';

// Names in certificates: distinguished names, GeneralNames (subject
// alternative names, name-constraint bases), read strictly from DER.

export interface Attribute {
  readonly oid: string;
  readonly value: string;
}

/** A distinguished name: its relative distinguished names in order, each a set of attributes. */
export type DistinguishedName = readonly (readonly Attribute[])[];

export const AttributeOid = {
  commonName: '2.5.4.3',
  countryName: '2.5.4.6',
  localityName: '2.5.4.7',
  stateOrProvinceName: '2.5.4.8',
  streetAddress: '2.5.4.9',
  organizationName: '2.5.4.10',
  organizationalUnitName: '2.5.4.11',
  postalCode: '2.5.4.17',
  emailAddress: '1.2.840.113549.1.9.1',
} as const;

/** Name ::= SEQUENCE OF RelativeDistinguishedName; RDN ::= SET OF AttributeTypeAndValue */
export function readName(buf: Uint8Array, tlv: Tlv): DistinguishedName {
  if (tlv.tag !== Tag.sequence) throw new DerError('Name is not a SEQUENCE');
  return children(buf, tlv).map((rdn) => {
    if (rdn.tag !== Tag.set) throw new DerError('RDN is not a SET');
    const attributes = children(buf, rdn).map((atv) => {
      if (atv.tag !== Tag.sequence) throw new DerError('AttributeTypeAndValue is not a SEQUENCE');
      const [type, value, extra] = children(buf, atv);
      if (!type || !value || extra) throw new DerError('malformed AttributeTypeAndValue');
      return { oid: readOid(buf, type), value: readString(buf, value) };
    });
    if (attributes.length === 0) throw new DerError('empty RDN');
    return attributes;
  });
}

export function attributeValues(name: DistinguishedName, oid: string): string[] {
  const out: string[] = [];
  for (const rdn of name) for (const a of rdn) if (a.oid === oid) out.push(a.value);
  return out;
}

export type GeneralName =
  | { readonly kind: 'email' | 'dns' | 'uri'; readonly value: string }
  | { readonly kind: 'ip'; readonly value: string; readonly octets: Buffer }
  | { readonly kind: 'directory'; readonly value: string; readonly name: DistinguishedName }
  | { readonly kind: 'other'; readonly value: string; readonly oid: string }
  | { readonly kind: 'registered'; readonly value: string; readonly oid: string }
  | { readonly kind: 'x400' | 'edi'; readonly value: string };

function ipText(octets: Buffer): string {
  if (octets.length === 4) return [...octets].join('.');
  const groups: string[] = [];
  for (let i = 0; i < octets.length; i += 2) groups.push(octets.readUInt16BE(i).toString(16));
  return groups.join(':');
}

export function formatDistinguishedName(name: DistinguishedName): string {
  return name.map((rdn) => rdn.map((a) => `${a.oid}=${a.value}`).join('+')).join(',');
}

/**
 * GeneralName ::= CHOICE { otherName [0], rfc822Name [1] IA5String, dNSName [2] IA5String,
 * x400Address [3], directoryName [4] Name, ediPartyName [5], uniformResourceIdentifier [6] IA5String,
 * iPAddress [7] OCTET STRING, registeredID [8] OBJECT IDENTIFIER }
 * ipLength: the lengths an iPAddress may have (4/16 in a SAN, 8/32 with its mask in a constraint).
 */
export function readGeneralName(buf: Uint8Array, tlv: Tlv, ipLengths: readonly number[] = [4, 16]): GeneralName {
  switch (tlv.tag) {
    case 0xa0: {
      const [type, value, extra] = children(buf, tlv);
      if (!type || !value || extra || value.tag !== 0xa0) throw new DerError('malformed otherName');
      const oid = readOid(buf, type);
      const inner = children(buf, value);
      if (inner.length !== 1) throw new DerError('malformed otherName value');
      let text: string;
      try {
        text = readString(buf, inner[0]!);
      } catch {
        text = bytes(buf, inner[0]!).toString('hex');
      }
      return { kind: 'other', oid, value: text };
    }
    case 0x81:
      return { kind: 'email', value: readAscii(buf, tlv) };
    case 0x82:
      return { kind: 'dns', value: readAscii(buf, tlv) };
    case 0xa3:
      return { kind: 'x400', value: bytes(buf, tlv).toString('hex') };
    case 0xa4: {
      const inner = children(buf, tlv);
      if (inner.length !== 1) throw new DerError('malformed directoryName');
      const name = readName(buf, inner[0]!);
      return { kind: 'directory', name, value: formatDistinguishedName(name) };
    }
    case 0xa5:
      return { kind: 'edi', value: bytes(buf, tlv).toString('hex') };
    case 0x86:
      return { kind: 'uri', value: readAscii(buf, tlv) };
    case 0x87: {
      const octets = Buffer.from(bytes(buf, tlv));
      if (!ipLengths.includes(octets.length)) throw new DerError(`iPAddress of ${octets.length} bytes`);
      return { kind: 'ip', octets, value: ipText(octets.length > 16 || octets.length === 8 ? octets.subarray(0, octets.length / 2) : octets) };
    }
    case 0x88: {
      // registeredID [8] IMPLICIT OBJECT IDENTIFIER
      const oid = readOid(buf, { tag: Tag.oid, start: tlv.start, end: tlv.end });
      return { kind: 'registered', oid, value: oid };
    }
    default:
      throw new DerError(`unknown GeneralName tag 0x${tlv.tag.toString(16)}`);
  }
}

/** GeneralNames ::= SEQUENCE SIZE (1..MAX) OF GeneralName */
export function readGeneralNames(value: Uint8Array): GeneralName[] {
  const outer = readTlv(value, 0);
  if (outer.end !== value.length || outer.tag !== Tag.sequence) throw new DerError('malformed GeneralNames');
  const names = children(value, outer).map((tlv) => readGeneralName(value, tlv));
  if (names.length === 0) throw new DerError('empty GeneralNames');
  return names;
}

export interface NameConstraints {
  readonly permitted: readonly GeneralName[];
  readonly excluded: readonly GeneralName[];
}

/**
 * NameConstraints ::= SEQUENCE { permittedSubtrees [0] GeneralSubtrees OPTIONAL, excludedSubtrees [1] OPTIONAL }
 * GeneralSubtree ::= SEQUENCE { base GeneralName, minimum [0] DEFAULT 0, maximum [1] OPTIONAL }
 * As in OpenSSL, a minimum other than 0 or any maximum is refused.
 */
export function readNameConstraints(value: Uint8Array): NameConstraints {
  const outer = readTlv(value, 0);
  if (outer.end !== value.length || outer.tag !== Tag.sequence) throw new DerError('malformed NameConstraints');
  const parts = children(value, outer);
  let permitted: GeneralName[] = [];
  let excluded: GeneralName[] = [];
  let last = -1;
  for (const part of parts) {
    const index = part.tag === 0xa0 ? 0 : part.tag === 0xa1 ? 1 : -1;
    if (index <= last) throw new DerError('malformed NameConstraints');
    last = index;
    const subtrees = children(value, part).map((subtree) => {
      if (subtree.tag !== Tag.sequence) throw new DerError('GeneralSubtree is not a SEQUENCE');
      const [base, ...bounds] = children(value, subtree);
      if (!base) throw new DerError('GeneralSubtree without a base');
      for (const bound of bounds) {
        if (bound.tag === 0x80 && readSmallUnsigned(value, { tag: Tag.integer, start: bound.start, end: bound.end }) === 0) {
          throw new DerError('GeneralSubtree minimum of 0 must be omitted');
        }
        throw new DerError('GeneralSubtree minimum and maximum are not supported');
      }
      return readGeneralName(value, base, [8, 32]);
    });
    if (subtrees.length === 0) throw new DerError('empty GeneralSubtrees');
    if (index === 0) permitted = subtrees;
    else excluded = subtrees;
  }
  if (parts.length === 0) throw new DerError('NameConstraints with neither permitted nor excluded subtrees');
  return { permitted, excluded };
}

/** RFC 4514 short names for the attribute types it lists; any other type is written as its OID. */
const RFC4514_NAMES: Record<string, string> = {
  '2.5.4.3': 'CN',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '2.5.4.6': 'C',
  '2.5.4.9': 'STREET',
  '0.9.2342.19200300.100.1.25': 'DC',
  '0.9.2342.19200300.100.1.1': 'UID',
};

/** An attribute value escaped as RFC 4514 §2.4 asks: the specials, a leading space or '#', a trailing space, and NUL. */
function escapeValue(value: string): string {
  let out = value.replace(/[\\",+;<>]/g, (c) => `\\${c}`).replace(/\u0000/g, '\\00');
  if (out.startsWith(' ') || out.startsWith('#')) out = `\\${out}`;
  if (out.endsWith(' ') && out.length > 1) out = `${out.slice(0, -1)}\\ `;
  return out;
}

/** A distinguished name as an RFC 4514 string: the last RDN first, multi-valued RDNs joined with '+'. */
export function rfc4514(name: DistinguishedName): string {
  return [...name]
    .reverse()
    .map((rdn) => rdn.map((a) => `${RFC4514_NAMES[a.oid] ?? a.oid}=${escapeValue(a.value)}`).join('+'))
    .join(',');
}
