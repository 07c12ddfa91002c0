// The HTTP handlers wired to a fresh DynamoDB Local table, invoked through middy exactly as Lambda would.
import { TokenRewards } from '../../domain/rewards';
import { issueTenant } from '../../domain/tenant';
import { nowSeconds } from '../../domain/time';
import { createAdmin } from '../../handlers/admin';
import { createSelectContent } from '../../handlers/select-content';
import { httpHandler } from '../../handlers/shared/http';
import { createStores } from '../../handlers/shared/stage';
import { createTrackOpen } from '../../handlers/track-open';
import { freshTable } from './dynamodb';
import { bearer, type HttpEventInput, httpEvent, lambdaContext, parseJson } from './events';

export async function serviceOnLocalDynamoDb() {
  const table = await freshTable();
  const stores = createStores(table.config, table.client);
  const content = httpHandler(createSelectContent(table.config, stores));
  const admin = httpHandler(createAdmin(table.config, stores));
  const pixel = createTrackOpen(new TokenRewards(stores.tenants, stores.ledger, nowSeconds));

  async function createTenant(id: string, folder = id) {
    const issued = issueTenant(id, folder, nowSeconds());
    await stores.tenantStore.create(issued.tenant);
    return issued;
  }

  const call = async (handler: typeof content, input: HttpEventInput) => {
    const result = await handler(httpEvent(input), lambdaContext());
    return { status: result.statusCode, headers: result.headers ?? {}, body: parseJson(result) };
  };

  return {
    ...table,
    stores,
    createTenant,
    content: (token: string, query: Record<string, string>) =>
      call(content, { path: '/v1/content', query, headers: bearer(token) }),
    admin: (token: string, input: Omit<HttpEventInput, 'headers'>) =>
      call(admin, { ...input, headers: { ...bearer(token) } }),
    pixel: (token: string) =>
      pixel(httpEvent({ path: `/v1/pixel/${token}.gif`, pathParameters: { token: `${token}.gif` } })),
  };
}
