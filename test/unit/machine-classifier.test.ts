// The machine classifier: every rule both ways, real mail clients as people 15 s after the send, CIDR edges for
// IPv4 and IPv6, and the operator list's errors. Agents are real strings (sources: domain/machine-sources.md).
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../domain/errors';
import {
  type AddressRanges,
  addressInRanges,
  type Classification,
  classifyRequest,
  MICROSOFT_LINK_SCANNER_RANGES,
  PREFETCH_WINDOW_SECONDS,
  parseAddressRanges,
  type RequestSignals,
} from '../../domain/machine-classifier';

const SENT = 1_767_225_600;
const HUMAN: Classification = { machine: false };
const machine = (reason: string) => ({ machine: true, reason });

const CHROME =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36';
const MAIL_CLIENTS = {
  'Outlook desktop':
    'Mozilla/4.0 (compatible; MSIE 7.0; Windows NT 10.0; WOW64; Trident/7.0; .NET4.0C; .NET4.0E; Microsoft Outlook 16.0.5266; ms-office; MSOffice 16)',
  'Outlook 2016': 'Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.15225; Pro)',
  Thunderbird: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.0',
  'Apple Mail on macOS':
    'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko)',
  'iOS Mail':
    'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148',
  'Gmail image proxy':
    'Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)',
  'Yahoo Mail proxy': 'YahooMailProxy; https://help.yahoo.com/kb/yahoo-mail-proxy-SLN28749.html',
  'a browser (webmail)': CHROME,
};

/** A request `seconds` after the send; a person's browser on a documentation address unless overridden. */
function request(seconds: number, over: Partial<RequestSignals> = {}): RequestSignals {
  return {
    channel: 'pixel',
    method: 'GET',
    userAgent: CHROME,
    sourceAddress: '198.51.100.7',
    sentAt: SENT,
    receivedAt: SENT + seconds,
    ...over,
  };
}

/** The classification of `request(seconds, over)`. */
const verdict = (seconds: number, over: Partial<RequestSignals> = {}, ranges?: AddressRanges) =>
  classifyRequest(request(seconds, over), ranges);
const within = (ranges: AddressRanges, ...addresses: string[]) =>
  addresses.map((a) => addressInRanges(a, ranges));

describe('people', () => {
  it.each(Object.entries(MAIL_CLIENTS))('counts %s 15 s after the send as a person', (_, userAgent) => {
    expect(verdict(15, { userAgent })).toEqual(HUMAN);
  });

  it('returns a reason, never the agent or the address it read', () => {
    const seen = verdict(2, { userAgent: 'Mozilla/5.0', sourceAddress: '203.0.113.9' });
    expect(Object.keys(seen).sort()).toEqual(['machine', 'reason']);
    expect(JSON.stringify(seen)).not.toMatch(/Mozilla|203\.0\.113/);
  });
});

describe('method', () => {
  it.each(['HEAD', 'head'])('calls a %s request a machine, whatever the agent and the time', (method) => {
    const outlook = MAIL_CLIENTS['Outlook desktop'];
    expect(verdict(86_400, { method, userAgent: outlook })).toEqual(machine('head_request'));
    expect(verdict(86_400, { method: 'GET', userAgent: outlook })).toEqual(HUMAN);
  });
});

describe('agents', () => {
  it.each([undefined, '', '   '])(
    'calls an empty agent (%j) a machine on the pixel and links',
    (userAgent) => {
      expect(verdict(60, { userAgent })).toEqual(machine('empty_agent'));
      expect(verdict(60, { userAgent, channel: 'click' })).toEqual(machine('empty_agent'));
      // The beacon endpoint is also called server-side, where an HTTP client may send no agent.
      expect(verdict(60, { userAgent, channel: 'beacon' })).toEqual(HUMAN);
    },
  );

  it.each(['Mozilla/5.0', 'mozilla/5.0 ', 'Mozilla/4.0', 'Mozilla/5.0 (compatible)', 'Mozilla/5.0 ()'])(
    'calls the bare agent %j a machine, at 15 s and a day later',
    (userAgent) => {
      expect(verdict(15, { userAgent })).toEqual(machine('bare_agent'));
      expect(verdict(86_400, { userAgent })).toEqual(machine('bare_agent'));
    },
  );

  it.each(['Mozilla/5.0 AppleWebKit/605.1.15', 'Mozilla/5.0 (Macintosh)'])(
    'does not call %j bare',
    (userAgent) => {
      expect(verdict(15, { userAgent })).toEqual(HUMAN);
    },
  );

  it.each([
    `${CHROME.replace('126.0.0.0', '42.0.2311.135')} Edge/12.246 Mozilla/5.0`, // Gmail's prefetch
    'Mozilla/5.0 (Windows NT 6.1; WOW64) AppleWebKit/534+ (KHTML, like Gecko) BingPreview/1.0b',
    'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)',
    'Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)',
    'facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)',
    'WhatsApp/2.23.20.0 A',
  ])('calls the scanner or preview agent %j a machine', (userAgent) => {
    expect(verdict(3_600, { userAgent })).toEqual(machine('scanner_agent'));
  });

  it('does not take a CUBOT phone for a robot', () => {
    const userAgent =
      'Mozilla/5.0 (Linux; Android 10; CUBOT_X30) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Mobile Safari/537.36';
    expect(verdict(3_600, { userAgent })).toEqual(HUMAN);
  });

  it.each([
    'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/119.0.6045.105 Safari/537.36',
    'Mozilla/5.0 (Unknown; Linux x86_64) AppleWebKit/538.1 (KHTML, like Gecko) PhantomJS/2.1.1 Safari/538.1',
  ])('calls the headless browser %j a machine on every channel', (userAgent) => {
    for (const channel of ['pixel', 'click', 'beacon'] as const) {
      expect(verdict(3_600, { userAgent, channel })).toEqual(machine('headless_agent'));
    }
  });

  const libraries = [
    'python-requests/2.31.0',
    'curl/8.4.0',
    'Go-http-client/1.1',
    'Java/17.0.2',
    'node',
    'Wget/1.21',
  ];
  it.each(libraries)(
    'calls the HTTP library %j a machine on the pixel and links, not on the server-side beacon',
    (userAgent) => {
      expect(verdict(3_600, { userAgent })).toEqual(machine('headless_agent'));
      expect(verdict(3_600, { userAgent, channel: 'click' })).toEqual(machine('headless_agent'));
      expect(verdict(3_600, { userAgent, channel: 'beacon' })).toEqual(HUMAN);
      // A library's name must stand alone: `curl/` is one, an agent that merely starts with the letters is not.
      expect(verdict(3_600, { userAgent: userAgent.replace(/^(\w+)/, '$1ew') })).toEqual(HUMAN);
    },
  );
});

describe('timing against the send', () => {
  it(`calls a generic agent a machine under ${PREFETCH_WINDOW_SECONDS} s after the send, then a person`, () => {
    expect(verdict(0)).toEqual(machine('prefetch_timing'));
    expect(verdict(PREFETCH_WINDOW_SECONDS - 1)).toEqual(machine('prefetch_timing'));
    expect(verdict(PREFETCH_WINDOW_SECONDS)).toEqual(HUMAN);
    expect(verdict(-30)).toEqual(machine('prefetch_timing')); // before the send: no person
  });

  it('treats the stripped WebKit agents of Apple Mail as generic: an early fetch is a prefetch', () => {
    for (const userAgent of [MAIL_CLIENTS['Apple Mail on macOS'], MAIL_CLIENTS['iOS Mail']]) {
      expect(verdict(2, { userAgent })).toEqual(machine('prefetch_timing'));
    }
  });

  it.each(['Outlook desktop', 'Thunderbird', 'Gmail image proxy', 'Yahoo Mail proxy'] as const)(
    'counts %s as a person even 2 s after the send: it fetches only to show the message',
    (client) => expect(verdict(2, { userAgent: MAIL_CLIENTS[client] })).toEqual(HUMAN),
  );
});

describe('source address', () => {
  const operator = parseAddressRanges('192.0.2.0/24, 2001:db8:aa::/48');

  it('calls a request from an operator-listed range a machine on every channel', () => {
    for (const channel of ['pixel', 'click', 'beacon'] as const) {
      for (const sourceAddress of ['192.0.2.200', '2001:db8:aa:1::5']) {
        expect(verdict(3_600, { channel, sourceAddress }, operator)).toEqual(machine('scanner_address'));
        expect(verdict(3_600, { channel, sourceAddress })).toEqual(HUMAN);
      }
      expect(verdict(3_600, { channel, sourceAddress: '192.0.3.1' }, operator)).toEqual(HUMAN);
    }
  });

  it("applies Microsoft's ranges to links only: Outlook on the web shows images through Microsoft", () => {
    for (const sourceAddress of ['40.107.218.12', '2a01:111:f403:c00a::1']) {
      expect(verdict(3_600, { channel: 'click', sourceAddress })).toEqual(machine('scanner_address'));
      expect(verdict(3_600, { channel: 'beacon', sourceAddress })).toEqual(machine('scanner_address'));
      expect(verdict(3_600, { channel: 'pixel', sourceAddress })).toEqual(HUMAN);
    }
    // The published IPv6 list leaves 2a01:111:f403:e000::/52 out.
    expect(within(MICROSOFT_LINK_SCANNER_RANGES, '2a01:111:f403:e000::1', '40.106.255.255')).not.toContain(
      true,
    );
  });

  it.each([undefined, '', 'not-an-address', '1.2.3', '999.1.1.1', '1::2::3', '192.0.2.1%eth0'])(
    'ignores a missing or malformed address (%j)',
    (sourceAddress) => expect(verdict(3_600, { channel: 'click', sourceAddress }, operator)).toEqual(HUMAN),
  );
});

describe('CIDR matching', () => {
  /** `inside` all match `list`, `outside` none does. */
  const edges = (list: string, inside: string[], outside: string[]) => {
    const ranges = parseAddressRanges(list);
    expect(within(ranges, ...inside)).toEqual(inside.map(() => true));
    expect(within(ranges, ...outside)).toEqual(outside.map(() => false));
  };

  it('matches IPv4 ranges up to their edges', () => {
    edges(
      '10.1.2.0/24 172.16.0.0/12 203.0.113.7',
      ['10.1.2.0', '10.1.2.255', '172.16.0.0', '172.31.255.255', '203.0.113.7'],
      ['10.1.1.255', '10.1.3.0', '172.15.255.255', '172.32.0.0', '203.0.113.8'],
    );
  });

  it('matches IPv6 ranges up to their edges, in any spelling', () => {
    edges(
      '2001:DB8:0:1::/64 ::1 fe80::/10',
      ['2001:db8:0:1::', '2001:0db8:0000:0001:ffff:ffff:ffff:ffff', '0:0:0:0:0:0:0:1', 'febf:ffff::1'],
      ['2001:db8:0:0:ffff:ffff:ffff:ffff', '2001:db8:0:2::', '::2', 'fec0::', '::'],
    );
  });

  it('keeps the families apart, except IPv4-mapped IPv6 addresses', () => {
    edges('0.0.0.0/0', ['0.0.0.0', '255.255.255.255'], ['2001:db8::1', '::ffff:0:0:1']);
    edges('192.0.2.0/24', ['::ffff:192.0.2.1', '::FFFF:c000:0201'], ['::192.0.2.1']);
    edges('::ffff:192.0.2.0/120', ['192.0.2.1'], ['192.0.3.1']);
    edges('::/0', ['ffff::'], ['192.0.2.1']);
  });

  it('reads an empty list as no ranges, and any mix of commas, spaces and newlines', () => {
    expect(parseAddressRanges(' \n ')).toEqual({ v4: [], v6: [] });
    const ranges = parseAddressRanges('192.0.2.0/24,\n 198.51.100.0/24\t2001:db8::/32,,');
    expect([ranges.v4.length, ranges.v6.length]).toEqual([2, 1]);
  });
});

describe('the operator list parser', () => {
  it.each([
    ['10.0.0.0/33', /"10\.0\.0\.0\/33" has prefix \/33; the longest is \/32/],
    ['2001:db8::/129', /"2001:db8::\/129" has prefix \/129; the longest is \/128/],
    ['10.0.0.1/8', /"10\.0\.0\.1\/8" has bits set after \/8/],
    ['2001:db8::1/32', /"2001:db8::1\/32" has bits set after \/32/],
    ['300.1.1.0/24', /"300\.1\.1\.0\/24" is not an IPv4 or IPv6 address/],
    ['010.0.0.0/8', /"010\.0\.0\.0\/8" is not an IPv4/],
    ['2001:db8:::/48', /"2001:db8:::\/48" is not an IPv4 or IPv6 address/],
    ['1:2:3:4:5:6:7:8:9', /is not an IPv4 or IPv6 address/],
    ['1::2::/32', /"1::2::\/32" is not an IPv4 or IPv6 address/],
    ['example.com', /"example\.com" is not an IPv4 or IPv6 address/],
    ['10.0.0.0/', /"10\.0\.0\.0\/" needs a prefix length/],
    ['10.0.0.0/x8', /needs a prefix length/],
    ['10.0.0.0/8/9', /"10\.0\.0\.0\/8\/9" has more than one "\/"/],
    ['::ffff:0:0/64', /wider than the IPv4-mapped range/],
  ])('rejects %j with a message naming it', (entry, message) => {
    expect(() => parseAddressRanges(entry)).toThrow(message);
  });

  it('names the bad entry among good ones, under the field it was given, as a ValidationError', () => {
    const parse = () =>
      parseAddressRanges('192.0.2.0/24, 10.0.0.1/8, 2001:db8::/32', 'WEFT_MACHINE_ADDRESS_RANGES');
    expect(parse).toThrow(ValidationError);
    expect(parse).toThrow(/^WEFT_MACHINE_ADDRESS_RANGES: entry "10\.0\.0\.1\/8" /);
  });
});
