import { addressRefusal, checkOutboundUrl, guardedLookup, parseNetworks, urlRefusal, type OutboundPolicy } from '../../src/net/outbound';

/*
 * The SSRF decision alone: which addresses and URLs Herald may connect to for a user. Every case is
 * decided without a packet: public addresses below are judged, never contacted.
 */
const PRODUCTION: OutboundPolicy = { allowHttp: false, allowedNetworks: [] };
const DEVELOPMENT: OutboundPolicy = { allowHttp: true, allowedNetworks: parseNetworks(['127.0.0.1/32']) };

describe('addresses', () => {
  test.each([
    ['169.254.169.254', 'linkLocal'],
    ['10.0.0.5', 'private'],
    ['172.16.0.1', 'private'],
    ['192.168.1.1', 'private'],
    ['100.64.0.1', 'carrierGradeNat'],
    ['224.0.0.1', 'multicast'],
    ['255.255.255.255', 'broadcast'],
    ['0.0.0.0', 'unspecified'],
    ['127.0.0.1', 'loopback'],
    ['127.0.0.2', 'loopback'],
    ['192.0.2.1', 'reserved'],
    ['::1', 'loopback'],
    ['::', 'unspecified'],
    ['fd00::1', 'uniqueLocal'],
    ['fe80::1', 'linkLocal'],
    ['ff02::1', 'multicast'],
    ['::ffff:10.0.0.1', 'private'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:169.254.169.254', 'linkLocal'],
    ['64:ff9b::a00:1', 'rfc6052'],
    ['2002:a00:1::', '6to4'],
  ])('%s is refused (%s)', (address, range) => {
    expect(addressRefusal(address, PRODUCTION)).toBe(`${address} is a ${range} address`);
  });

  test.each(['8.8.8.8', '1.1.1.1', '2001:4860:4860::8888'])('%s, a public unicast address, is allowed', (address) => {
    expect(addressRefusal(address, PRODUCTION)).toBeUndefined();
  });

  test('the allow-list opens exactly its networks', () => {
    expect(addressRefusal('127.0.0.1', DEVELOPMENT)).toBeUndefined();
    expect(addressRefusal('::ffff:127.0.0.1', DEVELOPMENT)).toBeUndefined();
    expect(addressRefusal('127.0.0.2', DEVELOPMENT)).toMatch(/loopback/);
    expect(addressRefusal('10.0.0.1', DEVELOPMENT)).toMatch(/private/);
  });

  test('a setting that is not CIDR notation is named', () => {
    expect(() => parseNetworks(['127.0.0.0/8', 'localhost'])).toThrow(/"localhost" is not a network in CIDR notation/);
  });
});

describe('URLs', () => {
  test.each([
    ['http://example.com/hook', /http: URLs are not allowed/],
    ['ftp://example.com/hook', /ftp: URLs are not allowed/],
    ['https://user:pw@example.com/hook', /credentials/],
    ['https://169.254.169.254/latest/meta-data', /linkLocal/],
    ['https://10.0.0.5/hook', /private/],
    ['https://[::1]:8443/hook', /loopback/],
    ['https://[::ffff:a00:5]/hook', /private/],
    ['https://[fd12:3456::1]/hook', /uniqueLocal/],
    // Other spellings of 127.0.0.1, normalised by the URL parser before the check.
    ['https://0x7f000001/hook', /127\.0\.0\.1 is a loopback/],
    ['https://2130706433/hook', /127\.0\.0\.1 is a loopback/],
    ['https://127.1/hook', /127\.0\.0\.1 is a loopback/],
    ['https://0177.0.0.1/hook', /127\.0\.0\.1 is a loopback/],
    ['not a url', /not an absolute URL/],
  ])('%s is refused in production', (url, reason) => {
    expect(urlRefusal(url, PRODUCTION)).toMatch(reason);
  });

  test('https to a public name passes the URL check; its addresses are checked after resolution', async () => {
    expect(urlRefusal('https://hooks.example.com/x', PRODUCTION)).toBeUndefined();
    const resolvesTo = (addresses: string[]) => async () => addresses;
    await expect(checkOutboundUrl('https://hooks.example.com/x', PRODUCTION, resolvesTo(['93.184.215.14']))).resolves.toBeUndefined();
    // One refused address refuses the name: it could be handed to the connection.
    await expect(checkOutboundUrl('https://hooks.example.com/x', PRODUCTION, resolvesTo(['93.184.215.14', '10.1.2.3']))).rejects.toThrow(
      'hooks.example.com resolves to a refused address: 10.1.2.3 is a private address',
    );
  });

  test('the connect-time lookup hands back only addresses it checked', async () => {
    const lookup = guardedLookup(PRODUCTION, async (host) => (host === 'ok.example' ? ['93.184.215.14'] : ['169.254.169.254']));
    const resolved = await new Promise((settle) => lookup('ok.example', {}, (err, address, family) => settle({ err, address, family })));
    expect(resolved).toEqual({ err: null, address: '93.184.215.14', family: 4 });
    const refused = await new Promise<Error | null>((settle) => lookup('metadata.example', { all: true }, (err) => settle(err)));
    expect(refused?.message).toBe('metadata.example resolves to a refused address: 169.254.169.254 is a linkLocal address');
  });
});
