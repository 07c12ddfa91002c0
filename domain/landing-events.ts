// Landing-page events: the beacon script's click (once per visit) and the `weft('conversion')` call, or the same
// posted by the customer's server. A click counts once per recipient whether it comes by beacon, Currents or
// both; what a machine sends (link scanners that run pages) counts nothing.
import { ValidationError } from './errors';
import { type AddressRanges, classifyRequest } from './machine-classifier';
import type { Observed, TokenRewardOutcome, TokenRewards } from './rewards';
import type { TenantDirectory } from './tenant-directory';

export type LandingEventType = 'click' | 'conversion';
const TYPES: readonly LandingEventType[] = ['click', 'conversion'];
/** Tracking tokens are ~150 characters; anything far longer is not one. */
const MAX_TOKEN_LENGTH = 1024;

export interface LandingEvent {
  readonly token: string;
  readonly type: LandingEventType;
}

/** What the request showed: used in memory to tell people from machines, never stored or logged. */
export interface EventRequest {
  readonly method: string;
  readonly userAgent: string | undefined;
  readonly sourceAddress: string | undefined;
  /** Unix seconds. */
  readonly receivedAt: number;
  /** The tenant's connect token when the customer's server posts the event itself. */
  readonly bearer: string | null;
}

export type LandingOutcome = TokenRewardOutcome | 'ignored' | 'machine';

export function parseLandingEvent(body: unknown): LandingEvent {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new ValidationError('body', 'must be a JSON object with "token" and "type"');
  const { token, type } = body as Record<string, unknown>;
  if (typeof token !== 'string' || token === '')
    throw new ValidationError('token', 'is required: the `weft` parameter of the link');
  if (token.length > MAX_TOKEN_LENGTH)
    throw new ValidationError('token', `must be at most ${MAX_TOKEN_LENGTH} characters`);
  if (!TYPES.includes(type as LandingEventType))
    throw new ValidationError('type', `must be one of ${TYPES.map((t) => `"${t}"`).join(', ')}`);
  return { token, type: type as LandingEventType };
}

export class LandingEvents {
  constructor(
    private readonly rewards: TokenRewards,
    private readonly tenants: TenantDirectory,
    private readonly ranges?: AddressRanges,
  ) {}

  /**
   * Counts the event's first reward. A server that posts with the tenant's connect token is trusted; a browser's
   * post passes the machine classifier. A forged, tampered or foreign token counts nothing, silently (DESIGN §3):
   * the caller's answer never tells a genuine token from another.
   */
  async record(event: LandingEvent, request: EventRequest): Promise<LandingOutcome> {
    let machine = false;
    const outcome = await this.rewards.record(
      event.token,
      (claims) => {
        machine =
          request.bearer === null &&
          classifyRequest(
            {
              channel: 'beacon',
              method: request.method,
              userAgent: request.userAgent,
              sourceAddress: request.sourceAddress,
              receivedAt: request.receivedAt,
              sentAt: claims.sentAt,
            },
            this.ranges,
          ).machine;
        if (machine) return null;
        const observed: Observed = { kind: event.type, source: 'beacon', at: request.receivedAt };
        return observed;
      },
      request.bearer === null ? undefined : await this.serverTenant(request.bearer),
    );
    return machine ? 'machine' : outcome;
  }

  private async serverTenant(bearer: string): Promise<string> {
    return (await this.tenants.authenticate(bearer, 'connect')).id;
  }
}
