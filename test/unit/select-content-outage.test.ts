// A cold container whose store is down still answers Connected Content with 200: never a failed send.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import { issueTenant } from '../../domain/tenant';
import { createSelectContent } from '../../handlers/select-content';
import type { Config } from '../../handlers/shared/config';
import { httpHandler } from '../../handlers/shared/http';
import { createStores } from '../../handlers/shared/stage';
import { bearer, httpEvent, lambdaContext, parseJson } from '../support/events';

const config: Config = {
  tableName: 'down',
  currentsBucket: null,
  publicBaseUrl: null,
  contentBudgetMs: 200,
  assignmentTtlSeconds: 86_400,
  dynamodbEndpoint: null,
  s3Endpoint: null,
  s3Credentials: null,
  region: 'eu-west-1',
};

describe('content with the store down on a cold container', () => {
  it('answers 200 with an empty fallback, and still rejects bad input and bad tokens', async () => {
    const client = new DynamoDBClient({ region: 'eu-west-1' });
    const mock = mockClient(client);
    mock.onAnyCommand().rejects(Object.assign(new Error('connect ECONNREFUSED'), { name: 'TimeoutError' }));
    const content = httpHandler(createSelectContent(config, createStores(config, client)));
    const token = issueTenant('acme', 'acme', 0).connectToken;
    const call = async (query: Record<string, string>, headers = bearer(token)) => {
      const result = await content(httpEvent({ path: '/v1/content', query, headers }), lambdaContext());
      return { status: result.statusCode, body: parseJson(result) };
    };

    const answer = await call({ experiment: 'spring', recipient: 'user-1' });
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ variant: null, text: '', token: null, fallback: true });
    expect(mock.calls().length).toBeGreaterThan(0);

    expect((await call({ experiment: 'spring' })).status).toBe(400);
    expect(
      (await call({ experiment: 'spring', recipient: 'u' }, { authorization: 'Bearer nonsense' })).status,
    ).toBe(401);
  });
});
