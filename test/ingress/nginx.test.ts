// docs/ingress/nginx.conf run by Debian's nginx in front of `certgate decide` (auth_request, decisions cached by
// nginx for less than 1 s): the shared ingress cases (suite.ts).
import { ingressSuite } from './suite.js';

// certgate's bound (250 ms) plus the cache's (an entry serves until the end of the second it was made in)
ingressSuite('nginx', { certgate: 'decide', passesChain: false, propagationMs: 1250 + 250 });
