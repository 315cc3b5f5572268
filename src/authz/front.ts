import type { IncomingMessage } from 'node:http';
import { ApiError } from '../domain/errors.js';
import type { Runtime } from '../runtime.js';
import type { Presented } from '../services/admission.js';
import { INGRESS_SECRET_HEADER, IngressTrust, type IngressTrustOptions } from './trust.js';

// What the decision service and the gateway behind an ingress share before the admission decision: whether the
// request came from the ingress, and what the ingress says the client presented (read once per distinct header
// value, by the runtime's Presentations).

export interface IngressOptions extends IngressTrustOptions {
  /** the header with the client's certificate (and maybe its chain), lowercase */
  readonly certHeader: string;
  /** the header with further certificates (intermediates), lowercase */
  readonly chainHeader: string;
}

/** Why a request's certificate headers were not used. */
export interface NotPresented {
  readonly error: ApiError;
  readonly reason: 'untrusted_certificate_source' | 'unreadable_certificate_header';
}

export class IngressFront {
  private readonly trust: IngressTrust;

  constructor(
    private readonly rt: Runtime,
    private readonly options: IngressOptions,
  ) {
    this.trust = new IngressTrust(options);
  }

  /** Request headers that are the ingress's to say to certgate and never go upstream. */
  get consumedHeaders(): string[] {
    return [INGRESS_SECRET_HEADER, this.options.certHeader, this.options.chainHeader];
  }

  /** What the client presented according to the ingress, or why that cannot be believed or read. */
  present(req: IncomingMessage): Presented | NotPresented {
    const { certHeader, chainHeader } = this.options;
    const raw = req.rawHeaders;
    const secrets: string[] = [];
    let leaf: string | undefined;
    let leaves = 0;
    let chain: string | undefined;
    for (let i = 0; i < raw.length; i += 2) {
      const name = raw[i]!.toLowerCase();
      if (name === INGRESS_SECRET_HEADER) secrets.push(raw[i + 1]!);
      else if (name === certHeader) {
        leaf = raw[i + 1];
        leaves++;
      } else if (name === chainHeader) chain = chain === undefined ? raw[i + 1] : `${chain},${raw[i + 1]}`; // a list may span lines
    }
    if (!this.trust.fromIngress(secrets, req.socket.remoteAddress)) return UNTRUSTED;
    // two leaves: the ingress added its header beside the client's instead of replacing it
    if (leaves > 1) return unreadable(`the ${certHeader} header appears ${leaves} times`);
    const presented = this.rt.state.presentations.of(leaf, chain);
    return 'unreadable' in presented ? unreadable(presented.unreadable) : presented;
  }
}

const UNTRUSTED: NotPresented = {
  error: new ApiError(
    'certificate_verification_failed',
    'This request did not come through the configured ingress, so no certificate it carries can be believed. (reason: untrusted_certificate_source)',
  ),
  reason: 'untrusted_certificate_source',
};

function unreadable(why: string): NotPresented {
  return {
    error: new ApiError('invalid_certificate', `The client certificate the ingress passed on could not be read: ${why}. (reason: unreadable_certificate_header)`),
    reason: 'unreadable_certificate_header',
  };
}
