// The request target as the upstream gets it: origin form (a path and its query), with dot-segments resolved, so
// that joined onto --upstream-url's base path it can never name anything above that path.
//
// As nginx does: an absolute-form target (`GET http://admin.internal/v1/models`) is taken for its path and query,
// its authority ignored (the upstream is --upstream-url's; RFC 9112 §3.2.2 has a server ignore Host for it too);
// `.` and `..` segments, also percent-encoded (`%2e`, RFC 3986 §2.3 makes them the same), are resolved as RFC 3986
// §5.2.4 does; a `..` that would climb above the root is refused rather than clamped. A segment that other servers
// read as a dot-segment though RFC 3986 does not (`..;x` to Tomcat, `..%2f` or `..\` to servers that decode or
// accept those as separators) is refused too: resolving it here would change its meaning for an RFC-faithful
// upstream, and passing it would let the other kind climb. Everything else goes byte for byte as the client wrote it.

const SLASH = 0x2f;
const ENCODED_DOT_OR_SEPARATOR = /^(?:2e|2f|5c)$/i;

/** A segment whose dots, percent-encoded or not, make it `.` or `..`. */
function dotSegment(segment: string): 0 | 1 | 2 {
  if (segment.length > 6 || segment.length === 0) return 0;
  const plain = segment.length === 1 || segment.length === 2 ? segment : segment.replace(/%2e/gi, '.');
  return plain === '.' ? 1 : plain === '..' ? 2 : 0;
}

/** A segment that is not a dot-segment but that some server may still read as one, or as holding one. */
function disguisedDotSegment(segment: string): boolean {
  if (!/[.%]/.test(segment)) return false;
  for (const piece of segment.split(/%2f|%5c|\\/i)) if (dotSegment(piece.split(';')[0]!) !== 0) return true;
  return false;
}

/**
 * The origin-form target to send upstream for a request's target as Node reports it (`req.url`), or undefined
 * when it has none (asterisk or authority form, anything else unparseable) or would climb above the root.
 */
export function originTarget(target: string): string | undefined {
  let start = 0;
  if (target.charCodeAt(0) !== SLASH) {
    const absolute = /^https?:\/\/[^/?#]*/i.exec(target);
    if (!absolute) return undefined;
    start = absolute[0].length;
    if (start === target.length || target.charCodeAt(start) !== SLASH) target = `${target.slice(0, start)}/${target.slice(start)}`;
  }
  let end = target.indexOf('?', start);
  if (end === -1) end = target.length;
  // the common case, one scan: no segment starts with a dot, no backslash, no %2e, %2f or %5c (`gpt-4.1` is plain)
  let plain = true;
  for (let i = start; i < end && plain; i++) {
    const c = target.charCodeAt(i);
    if (c === 0x2e /* . */) plain = target.charCodeAt(i - 1) !== SLASH;
    else if (c === 0x5c /* \ */) plain = false;
    else if (c === 0x25 /* % */) plain = !ENCODED_DOT_OR_SEPARATOR.test(target.slice(i + 1, i + 3));
  }
  if (plain) return start === 0 ? target : target.slice(start);
  const segments = target.slice(start + 1, end).split('/');
  const out: string[] = [];
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i]!;
    const dots = dotSegment(segment);
    const last = i === segments.length - 1;
    if (dots === 0) {
      if (disguisedDotSegment(segment)) return undefined;
      out.push(segment);
    } else if (dots === 2 && out.pop() === undefined) {
      return undefined; // above the root
    }
    // a final dot-segment leaves its directory: `/a/b/..` is `/a/`
    if (dots !== 0 && last) out.push('');
  }
  return `/${out.join('/')}${target.slice(end)}`;
}
