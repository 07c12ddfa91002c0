// The content response, rendered fast and in bounded memory: the variant's part of the JSON (text and parts,
// up to ~250 KB) is serialised once per definition version and shared by every recipient who gets it; only
// the token part is per recipient.

import { ByteBoundedMap } from '../../domain/cache';
import type { ContentAnswer } from '../../domain/content';
import type { HttpResult } from './http';

/** Rendered variant fragments kept per container. */
export const RENDERED_CACHE_BYTES = 32 * 1024 * 1024;

const HEADERS = {
  'content-type': 'application/json; charset=utf-8',
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
};

export class RenderedVariants {
  private readonly fragments: ByteBoundedMap<string>;

  constructor(maxBytes = RENDERED_CACHE_BYTES) {
    this.fragments = new ByteBoundedMap(maxBytes);
  }

  get bytes(): number {
    return this.fragments.bytes;
  }

  response(answer: ContentAnswer, base: string): HttpResult {
    const variant = answer.variant;
    const key = `${answer.tenantId}/${answer.experimentId}/${answer.experimentVersion}/${variant?.id ?? ''}`;
    let head = variant ? this.fragments.get(key) : undefined;
    if (head === undefined) {
      const full = JSON.stringify({
        experiment: answer.experimentId,
        variant: variant?.id ?? null,
        text: variant?.text ?? '',
        parts: variant?.parts ?? {},
      });
      head = full.slice(0, -1);
      if (variant) this.fragments.set(key, head, head.length * 2);
    }
    const token = answer.token;
    const tail = token
      ? `,"token":"${token}","pixel_url":${JSON.stringify(`${base}/v1/pixel/${token}.gif`)},"link_param":"weft=${token}","fallback":${answer.fallback}}`
      : `,"token":null,"pixel_url":null,"link_param":"","fallback":${answer.fallback}}`;
    return { statusCode: 200, headers: HEADERS, body: head + tail };
  }
}
