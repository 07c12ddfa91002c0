// GET /v1/content — what Braze's Connected Content calls once per recipient and message field.
import type { Context } from 'aws-lambda';
import type { ContentAnswer, ContentService } from '../domain/content';
import { ValidationError } from '../domain/errors';
import { validateExperimentId } from '../domain/experiment';
import { recipientDigest } from '../domain/recipient';
import { createDynamoDbClient } from './shared/clients';
import { type Config, readConfig } from './shared/config';
import { bearerToken, type HttpRequest, type HttpResult, httpHandler, queryParam } from './shared/http';
import { RenderedVariants } from './shared/rendered-variants';
import { type ContentStores, contentService, createStores } from './shared/stage';

const MAX_RECIPIENT_LENGTH = 512;
const MAX_CAMPAIGN_LENGTH = 128;

export function createSelectContent(config: Config, stores: ContentStores, content?: ContentService) {
  const service = content ?? contentService(config, stores);
  const rendered = new RenderedVariants();

  return async function selectContent(request: HttpRequest, _context?: Context): Promise<HttpResult> {
    const answer: ContentAnswer = await service.select(bearerToken(request), () => {
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
