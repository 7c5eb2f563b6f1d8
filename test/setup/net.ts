import net from 'node:net';
import { parseNetworks, type OutboundPolicy, type Resolve } from '../../src/net/outbound';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/**
 * The outbound policy of tests: plain http, and of the private ranges only the loopback addresses
 * the suite's own receivers listen on. 127.0.0.2 and the rest of 127.0.0.0/8 stay refused, so a
 * canary there proves the guard without any packet leaving the machine.
 */
export const TEST_OUTBOUND: OutboundPolicy = { allowHttp: true, allowedNetworks: parseNetworks(['127.0.0.1/32', '::1/128']) };
/** DNS without a network: `localhost` only. Test stacks use it, so no test ever queries a real resolver. */
export const LOOPBACK_DNS: Resolve = async (hostname) => {
  if (hostname === 'localhost') return ['127.0.0.1'];
  throw Object.assign(new Error(`${hostname}: not resolvable in tests`), { code: 'ENOTFOUND' });
};
export const TEST_OUTBOUND_ENV = { OUTBOUND_ALLOWED_NETWORKS: '127.0.0.1/32,::1/128', OUTBOUND_ALLOW_HTTP: 'true' };
