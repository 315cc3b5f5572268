// docs/ingress/Caddyfile run by Debian's Caddy in front of `certgate decide` (forward_auth): the shared ingress cases
// (suite.ts).
import { ingressSuite } from './suite.js';

ingressSuite('caddy', { certgate: 'decide', passesChain: false, propagationMs: 250 + 250 });
