// A few DER building blocks for crafting certificate fields at test time,
// the malformed ones included (a test states the exact bytes it means).

function length(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

export function tlv(tag: number, ...contents: Buffer[]): Buffer {
  const body = Buffer.concat(contents);
  return Buffer.concat([Buffer.from([tag]), length(body.length), body]);
}

export const seq = (...items: Buffer[]) => tlv(0x30, ...items);
export const hex = (text: string) => Buffer.from(text.replace(/\s+/g, ''), 'hex');
export const ia5 = (tag: number, text: string) => tlv(tag, Buffer.from(text, 'latin1'));

/** NameConstraints with permitted and excluded GeneralName bases (each a ready GeneralName TLV). */
export function nameConstraints(permitted: Buffer[], excluded: Buffer[] = []): Buffer {
  const subtrees = (tag: number, bases: Buffer[]) => (bases.length ? [tlv(tag, ...bases.map((b) => seq(b)))] : []);
  return seq(...subtrees(0xa0, permitted), ...subtrees(0xa1, excluded));
}

export const dnsName = (name: string) => ia5(0x82, name);
export const emailName = (name: string) => ia5(0x81, name);
export const uriName = (name: string) => ia5(0x86, name);
export const ipRange = (address: number[], mask: number[]) => tlv(0x87, Buffer.from([...address, ...mask]));
