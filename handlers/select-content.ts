// GET /v1/content — what Braze's Connected Content calls once per recipient and message field.
import type { Context } from 'aws-lambda';
import { type ContentAnswer, ContentService } from '../domain/content';
import { ValidationError } from '../domain/errors';
import { validateExperimentId } from '../domain/experiment';
import type { AllocationStore } from '../domain/ports/allocation-store';
import type { AssignmentLedger } from '../domain/ports/assignment-ledger';
import type { CounterReader } from '../domain/ports/counter-reader';
import type { DelayReader } from '../domain/ports/delay-reader';
import type { ExperimentStore } from '../domain/ports/experiment-store';
import { recipientDigest } from '../domain/recipient';
import type { TenantDirectory } from '../domain/tenant-directory';
import { nowSeconds } from '../domain/time';
import { createDynamoDbClient } from './shared/clients';
import { type Config, readConfig } from './shared/config';
import { type HttpRequest, type HttpResult, httpHandler, queryParam } from './shared/http';
import { describeError, logger } from './shared/logger';
import { count } from './shared/metrics';
import { RenderedVariants } from './shared/rendered-variants';
import { createStores, logBackgroundError } from './shared/stores';

const MAX_RECIPIENT_LENGTH = 512;
const MAX_CAMPAIGN_LENGTH = 128;

/** What content selection needs from the stores; the benchmark passes in-memory ones. */
export interface ContentStores {
  readonly tenants: TenantDirectory;
  readonly experiments: ExperimentStore;
  readonly allocations: AllocationStore;
  readonly ledger: AssignmentLedger & CounterReader & DelayReader;
}

/** `clock` (unix seconds) is injected by the capacity benchmark, which runs simulated time. */
export function createContentService(
  config: Config,
  stores: ContentStores,
  clock: () => number = nowSeconds,
): ContentService {
  return new ContentService({
    tenants: stores.tenants,
    experiments: stores.experiments,
    allocations: stores.allocations,
    ledger: stores.ledger,
    counters: stores.ledger,
    delays: stores.ledger,
    clock,
    budgetMs: config.contentBudgetMs,
    assignmentTtlSeconds: config.assignmentTtlSeconds,
    onFallback: (reason, error) => {
      count('ContentFallback');
      if (reason === 'assignment_unconfirmed') count('SendUnconfirmed');
      logger.warn('content fallback', { reason, ...(error ? describeError(error) : {}) });
    },
    onBackgroundError: logBackgroundError,
  });
}

export function createSelectContent(config: Config, stores: ContentStores, content?: ContentService) {
  const service = content ?? createContentService(config, stores);
  const rendered = new RenderedVariants();

  return async function selectContent(request: HttpRequest, _context?: Context): Promise<HttpResult> {
    const answer: ContentAnswer = await service.select(request.headers.authorization, () => {
      const experimentId = validateExperimentId(
        queryParam(request, 'experiment', { required: true, maxLength: 64 }),
      );
      const recipient = queryParam(request, 'recipient', { required: true, maxLength: MAX_RECIPIENT_LENGTH });
      const digest = recipientDigest(recipient);
      if (!digest) throw new ValidationError('recipient', 'must be a recipient id or its SHA-256 hex digest');
      return {
        experimentId,
        recipientDigest: digest,
        campaignId: queryParam(request, 'campaign', { maxLength: MAX_CAMPAIGN_LENGTH }),
        dispatchId: queryParam(request, 'dispatch', { maxLength: MAX_CAMPAIGN_LENGTH }),
      };
    });
    return rendered.response(answer, config.publicBaseUrl ?? request.origin);
  };
}

const config = readConfig();
export const selectContent = createSelectContent(
  config,
  createStores(config, createDynamoDbClient(config, config.contentBudgetMs)),
);
export const handler = httpHandler(selectContent);
