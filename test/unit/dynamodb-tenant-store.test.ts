// The DynamoDB tenant store's commands on a mocked client: what a rotation writes (sealed secrets only, guarded by
// the credentials it read), how a legacy item is sealed (and retried when a rotation lands in between), and how
// store and key-service failures surface (StoreUnavailableError, nothing secret in the message).
import {
  ConditionalCheckFailedException,
  DynamoDBClient,
  GetItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { DynamoDbTenantStore } from '../../adapters/dynamodb/dynamodb-tenant-store';
import { ConflictError, StoreUnavailableError } from '../../domain/errors';
import type { SecretSealer } from '../../domain/ports/secret-sealer';
import { issueTenant, rotateTenant } from '../../domain/tenant';

const NOW = 1_767_225_600;
const TABLE = 'weft';
const client = new DynamoDBClient({ region: 'eu-west-1' });
const dynamodb = mockClient(client);
beforeEach(() => dynamodb.reset());

/** A transparent sealer: `sealed(<context>)<base64url>`, so tests can see what was sealed, and for where. */
const sealer: SecretSealer = {
  seal: async (plaintext, context) => `sealed(${context})${Buffer.from(plaintext).toString('base64url')}`,
  unseal: async (sealed, context) => {
    const prefix = `sealed(${context})`;
    if (!sealed.startsWith(prefix)) throw new Error(`does not open for ${context}`);
    return Buffer.from(sealed.slice(prefix.length), 'base64url').toString('utf8');
  },
};
const store = new DynamoDbTenantStore(client, TABLE, sealer);
const issued = issueTenant('acme', 'acme', NOW);
const s = (value: string) => ({ S: value });

describe('DynamoDbTenantStore', () => {
  it('a rotation writes sealed signing secrets, removes any plain copy, and is guarded by the hashes it read', async () => {
    dynamodb.on(UpdateItemCommand).resolves({});
    const rotated = rotateTenant(issued.tenant, NOW);

    await store.replaceCredentials(rotated.tenant, issued.tenant);

    const [input] = dynamodb.commandCalls(UpdateItemCommand).map((c) => c.args[0].input);
    expect(input).toEqual({
      TableName: TABLE,
      Key: { pk: s('TENANT#acme'), sk: s('TENANT') },
      UpdateExpression:
        'SET connect_token_hash = :c, retired_connect_tokens = :r, admin_token_hash = :a, #sealed = :s REMOVE #plain',
      ConditionExpression: 'attribute_exists(pk) AND connect_token_hash = :ec AND admin_token_hash = :ea',
      ExpressionAttributeNames: { '#sealed': 'signing_secrets_sealed', '#plain': 'signing_secrets' },
      ExpressionAttributeValues: {
        ':c': s(rotated.tenant.connectTokenHash),
        ':r': s(
          JSON.stringify([{ hash: issued.tenant.connectTokenHash, retires_at: rotated.connectGraceUntil }]),
        ),
        ':a': s(rotated.tenant.adminTokenHash),
        ':s': s(
          await sealer.seal(JSON.stringify(rotated.tenant.signingSecrets), 'tenant/acme/signing_secrets'),
        ),
        ':ec': s(issued.tenant.connectTokenHash),
        ':ea': s(issued.tenant.adminTokenHash),
      },
    });
    for (const secret of rotated.tenant.signingSecrets)
      expect(JSON.stringify(input)).not.toContain(secret.secret);
  });

  it('a rotation that lost the race is tenant_changed; one of a missing tenant is tenant_missing', async () => {
    const failed = new ConditionalCheckFailedException({ message: 'failed', $metadata: {} });
    dynamodb.on(UpdateItemCommand).rejects(failed);
    dynamodb
      .on(GetItemCommand)
      .resolvesOnce({ Item: { tenant: s('acme') } })
      .resolves({});

    await expect(store.replaceCredentials(issued.tenant, issued.tenant)).rejects.toMatchObject({
      code: 'tenant_changed',
    });
    await expect(store.replaceCredentials(issued.tenant, issued.tenant)).rejects.toMatchObject({
      code: 'tenant_missing',
    });
    await expect(store.replaceCredentials(issued.tenant)).rejects.toBeInstanceOf(ConflictError);
  });

  it('seals a legacy item in place, retrying when a rotation lands between its read and its write', async () => {
    const legacy = {
      pk: s('TENANT#acme'),
      sk: s('TENANT'),
      tenant: s('acme'),
      folder: s('acme'),
      connect_token_hash: s(issued.tenant.connectTokenHash),
      admin_token_hash: s(issued.tenant.adminTokenHash),
      signing_secrets: s(JSON.stringify(issued.tenant.signingSecrets)),
      recipient_key: s(issued.tenant.recipientKey),
      created_at: { N: String(NOW) },
    };
    dynamodb.on(GetItemCommand).resolves({ Item: legacy });
    dynamodb
      .on(UpdateItemCommand)
      .rejectsOnce(new ConditionalCheckFailedException({ message: 'rotated meanwhile', $metadata: {} }))
      .resolves({});

    expect(await store.upgrade('acme', NOW + 300)).toBe('upgraded');

    const writes = dynamodb.commandCalls(UpdateItemCommand).map((c) => c.args[0].input);
    expect(writes).toHaveLength(2);
    expect(writes[1]).toMatchObject({
      UpdateExpression: 'SET #s0 = :s0, #s1 = :s1, experiment_pseudonyms_since = :since REMOVE #p0, #p1',
      ConditionExpression:
        'attribute_exists(pk) AND #p0 = :p0 AND #p1 = :p1 AND attribute_not_exists(experiment_pseudonyms_since)',
      ExpressionAttributeNames: {
        '#p0': 'signing_secrets',
        '#s0': 'signing_secrets_sealed',
        '#p1': 'recipient_key',
        '#s1': 'recipient_key_sealed',
      },
    });
    expect(writes[1]!.ExpressionAttributeValues![':s1']).toEqual(
      s(await sealer.seal(issued.tenant.recipientKey, 'tenant/acme/recipient_key')),
    );
  });

  it('reads with the caller’s abort signal; store and key-service failures are StoreUnavailableError', async () => {
    const controller = new AbortController();
    dynamodb.on(GetItemCommand).resolves({
      Item: {
        tenant: s('acme'),
        signing_secrets_sealed: s(await sealer.seal('[]', 'tenant/globex/signing_secrets')),
      },
    });

    const moved = await store.get('acme', { signal: controller.signal }).catch((e: unknown) => e);

    const [, options] = dynamodb.commandCalls(GetItemCommand)[0]!.args as unknown[];
    expect(options).toMatchObject({ abortSignal: controller.signal });
    expect(moved).toBeInstanceOf(StoreUnavailableError);
    expect((moved as Error).message).toBe('store unavailable during tenant secrets');
    dynamodb.on(GetItemCommand).rejects(new Error('socket hang up'));
    await expect(store.get('acme')).rejects.toBeInstanceOf(StoreUnavailableError);
  });
});
