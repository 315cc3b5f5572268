// docs/ingress/haproxy.cfg run by Debian's HAProxy in front of `certgate gateway --behind-ingress` (HAProxy passes the
// leaf and the intermediates as headers): the shared ingress cases (suite.ts).
import { ingressSuite } from './suite.js';

ingressSuite('haproxy', { certgate: 'terminated', passesChain: true, propagationMs: 250 + 250 });
