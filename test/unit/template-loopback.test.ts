// serverless.yml keeps the local stack's servers on loopback (serverless-offline and the local S3; DynamoDB
// Local is bound by local/dynamodb-local.ts), and the local S3 events plugin refuses to start a stack that would
// listen anywhere else. test/e2e/loopback.test.ts dials the running stack.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const PROJECT_ROOT = join(__dirname, '..', '..');
const yaml = createRequire(join(PROJECT_ROOT, 'node_modules', 'osls', 'package.json'))('js-yaml') as {
  load(text: string): unknown;
};
const { assertLoopback } = createRequire(__filename)('../../local/serverless-s3-aws-events.js') as {
  assertLoopback(custom: Record<string, unknown>): void;
};

type Custom = Record<string, Record<string, unknown>>;

function custom(): Custom {
  return (yaml.load(readFileSync(join(PROJECT_ROOT, 'serverless.yml'), 'utf8')) as { custom: Custom }).custom;
}

describe('local servers on loopback', () => {
  it('serverless.yml binds serverless-offline and the local S3 to 127.0.0.1', () => {
    const settings = custom();

    expect(settings['serverless-offline']?.['host']).toBe('127.0.0.1');
    expect(settings['s3']).toMatchObject({ host: '127.0.0.1', address: '127.0.0.1' });
    expect(() => assertLoopback(settings)).not.toThrow();
  });

  it('refuses a stack that would listen on every interface', () => {
    const settings = custom();
    const exposed = { ...settings, s3: { ...settings['s3'], address: '0.0.0.0' } };

    expect(() => assertLoopback(exposed)).toThrow(/custom\.s3\.address is "0\.0\.0\.0"/);
  });
});
