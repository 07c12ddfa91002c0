import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  type CurrentsEngagementRecord,
  extractTrackingToken,
  parseCurrentsKey,
  toEngagementEvent,
} from '../../domain/currents';
import { currentsKey, PERSONAL, TRACKING_TOKEN } from '../support/currents-fixtures';

describe('parseCurrentsKey', () => {
  it.each([
    ['schema-id', true],
    ['schema-id', false],
    ['version', true],
    ['version', false],
  ] as const)('reads folder and a click from a %s key (cluster part: %s)', (layout, cluster) => {
    const key = currentsKey({ folder: 'acme', layout, cluster });

    expect(parseCurrentsKey(key)).toEqual({
      folder: 'acme',
      eventType: 'users.messages.email.Click',
      kind: 'click',
    });
  });

  it('reads an open', () => {
    const key = currentsKey({ folder: 'acme', layout: 'version', eventType: 'users.messages.email.Open' });

    expect(parseCurrentsKey(key)?.kind).toBe('open');
  });

  it('compares the event type case-insensitively and keeps it as written', () => {
    const key = currentsKey({ folder: 'acme', layout: 'schema-id', eventType: 'users.messages.email.click' });

    expect(parseCurrentsKey(key)).toEqual({
      folder: 'acme',
      eventType: 'users.messages.email.click',
      kind: 'click',
    });
    expect(parseCurrentsKey('acme/x/EVENT_TYPE=USERS.MESSAGES.EMAIL.OPEN/y.avro')?.kind).toBe('open');
  });

  it.each([
    'users.messages.email.Send',
    'users.messages.email.Delivery',
    'users.messages.email.Bounce',
    'users.messages.email.MarkAsSpam',
    'users.messages.email.Unsubscribe',
    'users.messages.email.Clicks',
    'users.messages.pushnotification.Open',
  ])('marks %s as an event type weft skips', (eventType) => {
    const key = currentsKey({ folder: 'acme', layout: 'version', eventType });

    expect(parseCurrentsKey(key)).toEqual({ folder: 'acme', eventType, kind: null });
  });

  it('finds the event type at any depth', () => {
    expect(parseCurrentsKey('acme/event_type=users.messages.email.Click/file.avro')?.kind).toBe('click');
    expect(
      parseCurrentsKey('acme/a/b/c/d/e/event_type=users.messages.email.Open/date=2025-04-01-17/f/g/h/i.avro'),
    ).toEqual({ folder: 'acme', eventType: 'users.messages.email.Open', kind: 'open' });
  });

  it.each([
    ['no event_type segment', 'acme/dataexport.prod-01.S3.integration.abc/date=2025-04-01-17/x.avro'],
    ['an empty event type', 'acme/dataexport.S3.integration.abc/event_type=/x.avro'],
    ['no folder', '/dataexport.S3.integration.abc/event_type=users.messages.email.Click/x.avro'],
    ['the event type where the folder should be', 'event_type=users.messages.email.Click/x.avro'],
    ['an empty key', ''],
    ['event_type only inside a segment', 'acme/not_event_type=users.messages.email.Click/x.avro'],
  ])('returns null for %s', (_case, key) => {
    expect(parseCurrentsKey(key)).toBeNull();
  });
});

describe('extractTrackingToken', () => {
  const token = TRACKING_TOKEN;

  it.each([
    ['the only parameter', `https://shop.example/sale?weft=${token}`],
    ['among other parameters', `https://shop.example/sale?utm_source=braze&weft=${token}&utm_medium=email`],
    ['before a fragment', `https://shop.example/sale?a=1&weft=${token}#reviews`],
    ['percent-encoded', `https://shop.example/sale?weft=${encodeURIComponent(token).replaceAll('.', '%2E')}`],
    ['with surrounding whitespace', `  https://shop.example/?weft=${token}\n`],
    ['in an uppercase scheme and host', `HTTPS://SHOP.EXAMPLE/?weft=${token}`],
    ['in a single-page-app fragment', `https://shop.example/#/sale?utm_source=braze&weft=${token}`],
    [
      'inside a click-tracking redirect',
      `https://click.example/ls/click?upn=abc123&u=${encodeURIComponent(`https://shop.example/?weft=${token}`)}`,
    ],
    [
      'inside a double-encoded redirect',
      `https://click.example/ls/click?upn=abc&u=${encodeURIComponent(encodeURIComponent(`https://shop.example/?a=b&weft=${token}`))}`,
    ],
    [
      'inside a redirect inside a redirect',
      `https://t.example/r?to=${encodeURIComponent(`https://click.example/c?u=${encodeURIComponent(`https://shop.example/?weft=${token}`)}`)}`,
    ],
    ['inside an unencoded redirect target', `https://click.example/c?u=https://shop.example/p&weft=${token}`],
  ])('finds the token %s', (_case, url) => {
    expect(extractTrackingToken(url)).toBe(token);
  });

  it('takes the first valid token when the parameter repeats', () => {
    expect(extractTrackingToken('https://shop.example/?weft=bad%20token&weft=good-token_1')).toBe(
      'good-token_1',
    );
  });

  it('prefers the token of the outer URL over one in a redirect target', () => {
    const inner = encodeURIComponent('https://shop.example/?weft=inner');
    expect(extractTrackingToken(`https://click.example/?u=${inner}&weft=outer`)).toBe('outer');
  });

  it('looks into redirects three levels deep, and no deeper', () => {
    const wrap = (levels: number) => {
      let url = `https://shop.example/?weft=${token}`;
      for (let level = 0; level < levels; level++)
        url = `https://hop${level}.example/?u=${encodeURIComponent(url)}`;
      return url;
    };

    expect(extractTrackingToken(wrap(3))).toBe(token);
    expect(extractTrackingToken(wrap(4))).toBeNull();
  });

  it.each([
    ['no token', 'https://shop.example/sale?utm_source=braze'],
    ['an empty token', 'https://shop.example/sale?weft='],
    ['a token with a space', 'https://shop.example/?weft=abc+def'],
    ['a token with a slash', 'https://shop.example/?weft=abc%2Fdef'],
    ['a token with a quote', 'https://shop.example/?weft=abc%22def'],
    ['a token over 512 characters', `https://shop.example/?weft=${'a'.repeat(513)}`],
    ['weft only in the path', `https://shop.example/weft=${token}`],
    ['weft only as a value', `https://shop.example/?campaign=weft`],
    ['a parameter named differently', `https://shop.example/?Weft=${token}`],
    ['a relative URL', `/sale?weft=${token}`],
    ['a URL without a scheme', `shop.example/sale?weft=${token}`],
    ['a javascript: URL', `javascript:alert(1)//?weft=${token}`],
    ['a mailto: URL', `mailto:someone@example.org?weft=${token}`],
    ['garbage', '%%%weft=%%%'],
    [
      'an unbalanced escape in a redirect',
      'https://click.example/?u=https%3A%2F%2Fshop.example%2F%3Fweft%3D%E0%A4%A',
    ],
    ['an empty string', ''],
    ['null', null],
    ['undefined', undefined],
  ])('returns null for %s', (_case, url) => {
    expect(extractTrackingToken(url)).toBeNull();
  });

  it('accepts a token of exactly 512 characters', () => {
    const long = 'a'.repeat(512);
    expect(extractTrackingToken(`https://shop.example/?weft=${long}`)).toBe(long);
  });

  it('never throws, whatever it is given', () => {
    const hostile = [
      'http://[::1',
      'https://%zz/?weft=x',
      `https://shop.example/?${'u=https%3A%2F%2F&'.repeat(3_000)}weft=`,
      'https://shop.example/?weft=\u0000',
      `https://shop.example/?weft=${'\uD800'}`,
      'x'.repeat(1_000_000) + 'weft',
      12 as unknown as string,
      {} as unknown as string,
    ];
    for (const url of hostile) expect(() => extractTrackingToken(url)).not.toThrow();
  });
});

describe('toEngagementEvent', () => {
  const base: CurrentsEngagementRecord = {
    id: 'evt-1',
    time: 1_743_526_800,
    user_id: PERSONAL.brazeId,
    campaign_id: 'campaign-1',
    canvas_step_id: null,
    url: `https://shop.example/?weft=${TRACKING_TOKEN}`,
    is_suspected_bot_click: null,
    machine_open: null,
  };
  const sha256 = (value: string) => createHash('sha256').update(value, 'utf8').digest('hex');

  it('keeps ids and flags and hashes the user id', () => {
    expect(toEngagementEvent('click', base)).toEqual({
      eventId: 'evt-1',
      kind: 'click',
      time: 1_743_526_800,
      recipientDigest: sha256(PERSONAL.brazeId),
      campaignId: 'campaign-1',
      trackingToken: TRACKING_TOKEN,
      suspectedBot: false,
    });
  });

  it('takes an already hashed user id as it is, and none when it is redacted or missing', () => {
    const digest = sha256('someone');
    expect(toEngagementEvent('click', { ...base, user_id: digest.toUpperCase() }).recipientDigest).toBe(
      digest,
    );
    expect(toEngagementEvent('click', { ...base, user_id: '[REDACTED]' }).recipientDigest).toBeNull();
    expect(toEngagementEvent('click', { ...base, user_id: '' }).recipientDigest).toBeNull();
    expect(toEngagementEvent('click', { ...base, user_id: null }).recipientDigest).toBeNull();
    expect(toEngagementEvent('click', { id: 'e', time: 1 }).recipientDigest).toBeNull();
  });

  it('falls back to the Canvas step when there is no campaign', () => {
    expect(
      toEngagementEvent('click', { ...base, campaign_id: null, canvas_step_id: 'step-1' }).campaignId,
    ).toBe('step-1');
    expect(
      toEngagementEvent('click', { ...base, campaign_id: '', canvas_step_id: 'step-1' }).campaignId,
    ).toBe('step-1');
    expect(toEngagementEvent('click', { ...base, campaign_id: null }).campaignId).toBeNull();
  });

  it('flags bot clicks only when Braze says true', () => {
    expect(toEngagementEvent('click', { ...base, is_suspected_bot_click: true }).suspectedBot).toBe(true);
    expect(toEngagementEvent('click', { ...base, is_suspected_bot_click: false }).suspectedBot).toBe(false);
    expect(toEngagementEvent('click', { ...base, is_suspected_bot_click: null }).suspectedBot).toBe(false);
    expect(toEngagementEvent('click', { ...base, machine_open: 'true' }).suspectedBot).toBe(false);
  });

  it('flags machine opens, which Braze sends as the string "true"', () => {
    expect(toEngagementEvent('open', { ...base, machine_open: 'true' }).suspectedBot).toBe(true);
    expect(toEngagementEvent('open', { ...base, machine_open: 'TRUE' }).suspectedBot).toBe(true);
    expect(toEngagementEvent('open', { ...base, machine_open: true }).suspectedBot).toBe(true);
    expect(toEngagementEvent('open', { ...base, machine_open: 'false' }).suspectedBot).toBe(false);
    expect(toEngagementEvent('open', { ...base, machine_open: null }).suspectedBot).toBe(false);
    expect(toEngagementEvent('open', { ...base, is_suspected_bot_click: true }).suspectedBot).toBe(false);
  });

  it('reads a tracking token for clicks only', () => {
    expect(toEngagementEvent('open', base).trackingToken).toBeNull();
  });
});

describe('domain/currents.ts', () => {
  it('stays pure: it imports nothing but the recipient module', () => {
    const source = readFileSync(join(__dirname, '../../domain/currents.ts'), 'utf8');
    const imports = [...source.matchAll(/^import[^;]*from\s+'([^']+)'/gm)].map((match) => match[1]);

    expect(imports).toEqual(['./recipient']);
  });
});
