// Click URLs are written by whoever gets a link into an email, so scanning one for its `weft` token must cost
// time in proportion to its length and give the answer URLSearchParams would. No timings are asserted: the
// sizes below are ones a quadratic scan cannot finish within the test's timeout (64 KB took 1.8 s, 1 MB ~8
// minutes) and a linear one finishes in milliseconds.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { extractTrackingToken, plainTrackingToken } from '../../domain/currents';
import { TRACKING_TOKEN } from '../support/currents-fixtures';

const KB = 1024;
/** Just under the longest URL extractTrackingToken reads (64 KB): room for the host and a final token. */
const URL_BUDGET = 64 * KB - 256;
const TOKEN_SHAPE = /^[A-Za-z0-9._-]{1,512}$/;

const fill = (unit: string, bytes: number) => unit.repeat(Math.floor(bytes / unit.length));

/** Queries (with their `?`) that made the old scanner quadratic, or that a hostile link would try. */
function hostileQueries(bytes: number): ReadonlyArray<readonly [shape: string, query: string]> {
  return [
    ['a run of &', `?${fill('&', bytes)}`],
    ['names without =', `?${fill('a&', bytes)}`],
    ['empty weft parameters', `?${fill('weft&', bytes)}`],
    ['weft= fragments with bad values', `?${fill('weft=%&', bytes)}`],
    ['a run of %', `?x=${fill('%', bytes)}`],
    ['a run of =', `?x${fill('=', bytes)}`],
    ['% in every value', `?${fill('a=%25&', bytes)}`],
    ['almost-weft names', `?${fill('wef&weftt=1&', bytes)}`],
  ];
}

/** What URLSearchParams says: the first `weft` value that is a well-formed token. */
function reference(url: string): string | null {
  if (!url.includes('weft')) return null;
  return new URL(url).searchParams.getAll('weft').find((value) => TOKEN_SHAPE.test(value)) ?? null;
}

describe('scanning click URLs for the weft token', () => {
  it.each(hostileQueries(URL_BUDGET))(
    'finds the token after 64 KB of %s, and nothing without one',
    (_shape, query) => {
      const withToken = `https://shop.example/p${query}&weft=${TRACKING_TOKEN}`;
      const without = `https://shop.example/p${query}`;

      const found = extractTrackingToken(withToken);
      const notFound = extractTrackingToken(without);

      expect(withToken.length).toBeLessThanOrEqual(64 * KB);
      expect(found).toBe(reference(withToken));
      expect(notFound).toBe(reference(without));
    },
  );

  it('finds the token inside a redirect target made of 64 KB of hostile parameters', () => {
    const target = `https://shop.example/p?${fill('a&', URL_BUDGET / 2)}weft=${TRACKING_TOKEN}`;
    const url = `https://click.example/c?u=${encodeURIComponent(target)}`;

    expect(url.length).toBeLessThanOrEqual(64 * KB);
    expect(extractTrackingToken(url)).toBe(TRACKING_TOKEN);
  });

  it('reads a 1 MB hostile query in one pass', () => {
    const results = hostileQueries(1024 * KB).map(([shape, query]) => [
      shape,
      plainTrackingToken(`${query}&weft=${TRACKING_TOKEN}`),
    ]);

    // Plain names all the way: the token. An encoded name or value on the way: undecided (URLSearchParams').
    expect(Object.fromEntries(results)).toEqual({
      'a run of &': TRACKING_TOKEN,
      'names without =': TRACKING_TOKEN,
      'empty weft parameters': null,
      'weft= fragments with bad values': null,
      'a run of %': TRACKING_TOKEN,
      'a run of =': TRACKING_TOKEN,
      '% in every value': TRACKING_TOKEN,
      'almost-weft names': TRACKING_TOKEN,
    });
  });

  it('turns away a URL over 64 KB without reading it', () => {
    const url = `https://shop.example/p?${fill('a&', 1024 * KB)}weft=${TRACKING_TOKEN}`;

    expect(extractTrackingToken(url)).toBeNull();
  });

  it('keeps a Currents file full of hostile 64 KB links cheap', () => {
    // 240 links, 15 MB of URL: a few hundred milliseconds in one pass, several minutes scanned quadratically.
    const shapes = hostileQueries(URL_BUDGET);
    let found = 0;

    for (let i = 0; i < 240; i++) {
      const [, query] = shapes[i % shapes.length]!;
      if (extractTrackingToken(`https://shop.example/p${query}&weft=${TRACKING_TOKEN}`) !== null) found++;
    }

    expect(found).toBe(240);
  });

  it('agrees with URLSearchParams on random queries of names, values, = & % and +', () => {
    const piece = fc.constantFrom(
      'weft',
      'wef',
      't',
      'a',
      '=',
      '&',
      '%',
      '%77',
      '%2',
      '+',
      'x.y_z-1',
      TRACKING_TOKEN,
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 24 }), (pieces) => {
        const url = `https://shop.example/p?${pieces.join('')}`;
        const plain = plainTrackingToken(new URL(url).search);

        expect(extractTrackingToken(url)).toBe(reference(url));
        if (plain !== null) expect(plain).toBe(reference(url));
      }),
      { seed: 14, numRuns: 2_000 },
    );
  });
});
