// GET /v1/content — what Braze's Connected Content calls once per recipient and message field.
import type { Context } from 'aws-lambda';
import { type ContentAnswer, ContentService } from '../domain/content';
import { DelayModels } from '../domain/delay-models';
import { StoreUnavailableError, ValidationError } from '../domain/errors';
import { validateExperimentId } from '../domain/experiment';
import type { AssignmentLedger } from '../domain/ports/assignment-ledger';
import type { CounterReader } from '../domain/ports/counter-reader';
import type { DelayReader } from '../domain/ports/delay-reader';
import type { ExperimentStore } from '../domain/ports/experiment-store';
import { createRandom } from '../domain/random';
import { recipientDigest } from '../domain/recipient';
import type { TenantDirectory } from '../domain/tenant-directory';
import { nowSeconds } from '../domain/time';
import { type Config, readConfig } from './shared/config';
import { type HttpRequest, type HttpResult, httpHandler, json, queryParam } from './shared/http';
import { describeError, logger } from './shared/logger';
import { count } from './shared/metrics';
import { createStores, logBackgroundError } from './shared/stores';

const MAX_RECIPIENT_LENGTH = 512;
const MAX_CAMPAIGN_LENGTH = 128;

/** What content selection needs from the stores; the benchmark passes in-memory ones. */
export interface ContentStores {
  readonly tenants: TenantDirectory;
  readonly experiments: ExperimentStore;
  readonly ledger: AssignmentLedger & CounterReader & DelayReader;
}

export function createSelectContent(config: Config, stores: ContentStores, content?: ContentService) {
  const delays = new DelayModels(stores.ledger, nowSeconds, logBackgroundError);
  const service =
    content ??
    new ContentService({
      experiments: stores.experiments,
      ledger: stores.ledger,
      counters: stores.ledger,
      random: createRandom((Date.now() ^ (process.pid << 16)) >>> 0),
      clock: nowSeconds,
      budgetMs: config.contentBudgetMs,
      assignmentTtlSeconds: config.assignmentTtlSeconds,
      delayModel: (tenantId, experiment) => delays.forMetric(tenantId, experiment.metric),
      onFallback: (reason, error) => {
        count('ContentFallback');
        logger.warn('content fallback', { reason, ...describeError(error) });
      },
      onBackgroundError: logBackgroundError,
    });

  const responses = new WeakMap<ContentAnswer, { base: string; result: HttpResult }>();

  return async function selectContent(request: HttpRequest, _context?: Context): Promise<HttpResult> {
    // A cold container with an unreachable store cannot check the token: it answers an empty fallback (no
    // text, no token, nothing learned from it) rather than failing the send (DESIGN §2).
    const tenant = await stores.tenants
      .authenticate(request.headers.authorization, 'connect')
      .catch((error) => {
        if (!(error instanceof StoreUnavailableError)) throw error;
        count('ContentFallback');
        logger.warn('content fallback', { reason: 'tenant_unavailable', ...describeError(error) });
        return null;
      });
    const experimentId = validateExperimentId(
      queryParam(request, 'experiment', { required: true, maxLength: 64 }),
    );
    const recipient = queryParam(request, 'recipient', { required: true, maxLength: MAX_RECIPIENT_LENGTH });
    const digest = recipientDigest(recipient);
    if (!digest) throw new ValidationError('recipient', 'must be a recipient id or its SHA-256 hex digest');
    const campaignId = queryParam(request, 'campaign', { maxLength: MAX_CAMPAIGN_LENGTH });
    const dispatchId = queryParam(request, 'dispatch', { maxLength: MAX_CAMPAIGN_LENGTH });

    const answer = tenant
      ? await service.select(tenant, { experimentId, recipientDigest: digest, campaignId, dispatchId })
      : { experimentId, variant: null, token: null, fallback: true };
    const base = config.publicBaseUrl ?? request.origin;
    // Repeats of a recipient get the very same answer object back: reuse its response too.
    const rendered = responses.get(answer);
    if (rendered?.base === base) return rendered.result;
    const result = json(200, {
      experiment: answer.experimentId,
      variant: answer.variant?.id ?? null,
      text: answer.variant?.text ?? '',
      parts: answer.variant?.parts ?? {},
      token: answer.token,
      pixel_url: answer.token ? `${base}/v1/pixel/${answer.token}.gif` : null,
      link_param: answer.token ? `weft=${answer.token}` : '',
      fallback: answer.fallback,
    });
    responses.set(answer, { base, result });
    return result;
  };
}

const config = readConfig();
export const selectContent = createSelectContent(config, createStores(config));
export const handler = httpHandler(selectContent);
