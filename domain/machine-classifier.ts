// Decides whether a request to the open pixel, the landing beacon or a click path was made by a machine (a privacy
// prefetch, a security scanner, a headless browser) from what the request itself shows, never from anything
// stored. Where each rule comes from, and its limits: domain/machine-sources.md. The agent and the address are
// read here and go nowhere else: the result carries a reason, never the evidence.

import { ValidationError } from './errors';

export type RequestChannel = 'pixel' | 'beacon' | 'click';

export interface RequestSignals {
  readonly channel: RequestChannel;
  readonly method: string;
  readonly userAgent: string | undefined;
  readonly sourceAddress: string | undefined;
  /** Unix seconds. */
  readonly receivedAt: number;
  /** Unix seconds, from the verified token: the recipient's first assignment to the experiment. */
  readonly sentAt: number;
}

export type MachineReason =
  | 'head_request'
  | 'empty_agent'
  | 'bare_agent'
  | 'scanner_agent'
  | 'headless_agent'
  | 'scanner_address'
  | 'prefetch_timing';

export type Classification =
  | { readonly machine: false }
  | { readonly machine: true; readonly reason: MachineReason };

/**
 * A generic agent this soon after the send is a delivery-time fetch (gateway scan, privacy prefetch). Kept below
 * 15 s, where a desktop client showing a new message at once is a person; the age counts from the render, not the
 * delivery, so only the fastest scans fall inside it (the other rules carry the rest).
 */
export const PREFETCH_WINDOW_SECONDS = 10;

/** CIDR ranges, parsed once (see `parseAddressRanges`). */
export interface AddressRanges {
  readonly v4: readonly { readonly network: number; readonly mask: number }[];
  readonly v6: readonly { readonly network: bigint; readonly mask: bigint }[];
}

const HUMAN: Classification = Object.freeze({ machine: false });
const VERDICTS = Object.fromEntries(
  (
    [
      'head_request',
      'empty_agent',
      'bare_agent',
      'scanner_agent',
      'headless_agent',
      'scanner_address',
      'prefetch_timing',
    ] as const
  ).map((reason) => [reason, Object.freeze({ machine: true, reason })]),
) as Record<MachineReason, Classification>;

/** `Mozilla/5.0` and nothing that names a platform or an engine: what Apple's MPP proxy sends. */
const BARE_AGENT = /^mozilla\/\d+(?:\.\d+)*(?:\s*\(\s*(?:compatible\s*;?\s*)?\))?$/i;
/** Gmail's prefetch agent, Bing's link preview, link unfurlers and self-declared robots (not CUBOT phones). */
const SCANNER_AGENT =
  /Chrome\/42\.0\.2311\.135 Safari\/537\.36 Edge\/12\.246 Mozilla\/5\.0|BingPreview|(?<! cu)bots?(?:\b|_)|crawl|spider|facebookexternalhit|SkypeUriPreview|^WhatsApp\//i;
const HEADLESS_BROWSER = /headless|PhantomJS/i;
/** Server-side HTTP libraries: machines on the pixel and links, legitimate server-side reporters on the beacon. */
const HTTP_LIBRARY =
  /^(?:curl|wget|python|go-http-client|java|apache-httpclient|node|undici|axios|libwww-perl|php|ruby|scrapy)(?:[/\s_-]|$)/i;
/** Clients that fetch only to show the message to its reader, and the image proxies that fetch on a real open. */
const NAMED_MAIL_CLIENT =
  /GoogleImageProxy|YahooMailProxy|Microsoft Outlook|\bms-office\b|\bMSOffice\b|Thunderbird\//i;

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;
const HEX_GROUP = /^[0-9a-f]{1,4}$/i;
const MAPPED_V4_PREFIX = 0xffffn << 32n;

export function classifyRequest(signals: RequestSignals, ranges?: AddressRanges): Classification {
  if (signals.method.toUpperCase() === 'HEAD') return VERDICTS.head_request;
  // DESIGN §3: the beacon endpoint is also called server-side, by HTTP libraries that may send no agent at all.
  const serverSideAllowed = signals.channel === 'beacon';
  const agent = signals.userAgent?.trim() ?? '';
  if (agent === '') {
    if (!serverSideAllowed) return VERDICTS.empty_agent;
  } else if (BARE_AGENT.test(agent)) return VERDICTS.bare_agent;
  else if (SCANNER_AGENT.test(agent)) return VERDICTS.scanner_agent;
  else if (HEADLESS_BROWSER.test(agent) || (!serverSideAllowed && HTTP_LIBRARY.test(agent))) {
    return VERDICTS.headless_agent;
  }
  if (fromScannerNetwork(signals, ranges)) return VERDICTS.scanner_address;
  const age = signals.receivedAt - signals.sentAt;
  if (Number.isFinite(age) && age < PREFETCH_WINDOW_SECONDS && !NAMED_MAIL_CLIENT.test(agent)) {
    return VERDICTS.prefetch_timing;
  }
  return HUMAN;
}

/** Whether `address` (IPv4, IPv6 or IPv4-mapped IPv6) lies in one of `ranges`; false for anything unparsable. */
export function addressInRanges(address: string, ranges: AddressRanges): boolean {
  const parsed = parseAddress(address.trim());
  if (parsed === null) return false;
  if (typeof parsed === 'number') return ranges.v4.some((r) => (parsed & r.mask) >>> 0 === r.network);
  return ranges.v6.some((r) => (parsed & r.mask) === r.network);
}

/**
 * Comma- or whitespace-separated CIDR ranges (`192.0.2.0/24, 2001:db8::/32`); a bare address is a single host.
 * Throws a ValidationError naming the first bad entry. Empty text gives no ranges.
 */
export function parseAddressRanges(text: string, field = 'address_ranges'): AddressRanges {
  const v4: { network: number; mask: number }[] = [];
  const v6: { network: bigint; mask: bigint }[] = [];
  for (const entry of text.split(/[\s,]+/).filter((e) => e !== '')) {
    const fail = (problem: string) => new ValidationError(field, `entry "${entry}" ${problem}`);
    const [addressText = '', prefixText, extra] = entry.split('/');
    if (extra !== undefined) throw fail('has more than one "/"');
    const address = parseAddress(addressText);
    if (address === null) throw fail('is not an IPv4 or IPv6 address');
    const bits = typeof address === 'number' ? 32 : 128;
    if (prefixText !== undefined && !/^\d{1,3}$/.test(prefixText)) {
      throw fail('needs a prefix length (a whole number) after "/"');
    }
    // An IPv4-mapped IPv6 range (::ffff:192.0.2.0/120) is kept as the IPv4 range it covers.
    const mapped = bits === 32 && addressText.includes(':') ? 96 : 0;
    const written = prefixText === undefined ? bits + mapped : Number(prefixText);
    if (written > bits + mapped) throw fail(`has prefix /${written}; the longest is /${bits + mapped}`);
    if (written < mapped) throw fail('is wider than the IPv4-mapped range ::ffff:0:0/96');
    const prefix = written - mapped;
    if (typeof address === 'number') {
      const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
      if ((address & mask) >>> 0 !== address)
        throw fail(`has bits set after /${written}: write the first address of the range`);
      v4.push({ network: address, mask });
    } else {
      const mask = ((1n << 128n) - 1n) ^ ((1n << BigInt(128 - prefix)) - 1n);
      if ((address & mask) !== address)
        throw fail(`has bits set after /${written}: write the first address of the range`);
      v6.push({ network: address, mask });
    }
  }
  return Object.freeze({ v4: Object.freeze(v4), v6: Object.freeze(v6) });
}

/**
 * Microsoft Exchange Online Protection's mail-flow ranges, as its SPF record `spf.protection.outlook.com`
 * publishes them. Safe Links detonates links from there; it never proxies a person's click, but Outlook on the
 * web shows images through Microsoft addresses, so these apply to the click and beacon channels only.
 */
export const MICROSOFT_LINK_SCANNER_RANGES = parseAddressRanges(
  '40.92.0.0/15 40.107.0.0/16 52.100.0.0/14 104.47.0.0/17 2a01:111:f400::/48 2a01:111:f403::/49 ' +
    '2a01:111:f403:8000::/50 2a01:111:f403:c000::/51 2a01:111:f403:f000::/52',
);

function fromScannerNetwork(signals: RequestSignals, operatorRanges: AddressRanges | undefined): boolean {
  const linkChannel = signals.channel !== 'pixel';
  if ((!linkChannel && !operatorRanges) || signals.sourceAddress === undefined) return false;
  return (
    (linkChannel && addressInRanges(signals.sourceAddress, MICROSOFT_LINK_SCANNER_RANGES)) ||
    (operatorRanges !== undefined && addressInRanges(signals.sourceAddress, operatorRanges))
  );
}

/** An IPv4 address as a 32-bit number, an IPv6 one as a 128-bit bigint (IPv4-mapped ones as IPv4), else null. */
function parseAddress(text: string): number | bigint | null {
  if (text.includes(':')) {
    const v6 = parseIPv6(text);
    return v6 !== null && v6 >> 32n === 0xffffn ? Number(v6 - MAPPED_V4_PREFIX) : v6;
  }
  return parseIPv4(text);
}

function parseIPv4(text: string): number | null {
  const octets = IPV4.exec(text)?.slice(1);
  // Leading zeros are refused: some parsers read them as octal.
  if (!octets || octets.some((o) => Number(o) > 255 || (o.length > 1 && o.startsWith('0')))) return null;
  return octets.reduce((value, o) => value * 256 + Number(o), 0);
}

function parseIPv6(text: string): bigint | null {
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const groups = halves.map((half) => (half === '' ? [] : half.split(':')));
  const last = groups[groups.length - 1]!;
  const tail = last[last.length - 1];
  if (tail?.includes('.')) {
    const v4 = parseIPv4(tail);
    if (v4 === null) return null;
    last.splice(-1, 1, (v4 >>> 16).toString(16), (v4 & 0xffff).toString(16));
  }
  const count = groups.reduce((n, g) => n + g.length, 0);
  if (halves.length === 1 ? count !== 8 : count > 7) return null;
  const all =
    halves.length === 1 ? groups[0]! : [...groups[0]!, ...Array(8 - count).fill('0'), ...groups[1]!];
  if (!all.every((g) => HEX_GROUP.test(g))) return null;
  return all.reduce((value, g) => (value << 16n) | BigInt(Number.parseInt(g, 16)), 0n);
}
