// The template `serverless package --stage ci` writes, checked against the code (tools/template-checks): no
// finding at all, i.e. data encrypted at rest, the table recoverable, the Currents bucket private, TLS-only and
// expiring after its dead letters, every role allowed exactly the actions its handler's code calls. Packages
// once per run (shared through tools/template-checks/package-service with any other test that asks).
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Resource, Template } from '../../tools/template-checks/cloudformation';
import { checkTemplate, deriveCodeActions } from '../../tools/template-checks/index';
import { packageService } from '../../tools/template-checks/package-service';

const PROJECT_ROOT = join(__dirname, '..', '..');
const SECONDS_PER_DAY = 86_400;

describe('packaged template against the code', () => {
  let template: Template;
  let derived: ReturnType<typeof deriveCodeActions>;
  const resource = (id: string): Resource => template.Resources[id]!;
  const props = (id: string) => (resource(id).Properties ?? {}) as Record<string, unknown>;

  beforeAll(async () => {
    template = (await packageService(PROJECT_ROOT, 'ci')).template;
    derived = deriveCodeActions(PROJECT_ROOT, template);
  }, 360_000);

  it('has no findings: encryption, recovery, a private TLS-only expiring bucket, IAM exactly as the code calls', () => {
    expect(checkTemplate(template, derived)).toEqual([]);
  });

  it('keeps Currents files longer than the dead-letter queue keeps their events, so `weft replay` finds them', () => {
    const rules = (
      props('S3BucketCurrents')['LifecycleConfiguration'] as { Rules: Array<Record<string, unknown>> }
    ).Rules;
    const expiryDays = Number(rules.find((rule) => rule['Status'] === 'Enabled')?.['ExpirationInDays']);
    const retentionSeconds = Number(props('IngestionDeadLetterQueue')['MessageRetentionPeriod']);

    expect(expiryDays).toBe(30);
    expect(retentionSeconds).toBe(14 * SECONDS_PER_DAY);
    expect(expiryDays * SECONDS_PER_DAY).toBeGreaterThan(retentionSeconds);
  });

  it('derives from the code: only ingestion reads S3, every tenant reader decrypts, no function seals', () => {
    const actions = Object.fromEntries(
      [...derived.byHandler].map(([handler, code]) => [handler.replace(/\.handler$/, ''), code.actions]),
    );
    const tenantReaders = [
      'handlers/select-content',
      'handlers/track-open',
      'handlers/track-event',
      'handlers/ingest-currents',
      'handlers/admin',
    ];

    for (const [handler, granted] of Object.entries(actions)) {
      expect(granted.includes('s3:GetObject'), handler).toBe(handler === 'handlers/ingest-currents');
      expect(granted.includes('kms:Decrypt'), handler).toBe(tenantReaders.includes(handler));
      expect(
        granted.filter((a) => a === 'kms:GenerateDataKey' || a === 'kms:Encrypt'),
        handler,
      ).toEqual([]);
    }
    expect(actions['handlers/dashboard']).toEqual([]);
  });

  it('creates a retained, rotating KMS key with an alias and tells every function its ARN', () => {
    const [keyId] = Object.entries(template.Resources).find(([, r]) => r.Type === 'AWS::KMS::Key') ?? [];
    const alias = Object.values(template.Resources).find((r) => r.Type === 'AWS::KMS::Alias');

    expect(resource(keyId!)).toMatchObject({
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: { EnableKeyRotation: true },
    });
    expect(alias?.Properties).toEqual({ AliasName: 'alias/weft-ci-secrets', TargetKeyId: { Ref: keyId } });
    for (const [id, fn] of Object.entries(template.Resources).filter(
      ([, r]) => r.Type === 'AWS::Lambda::Function',
    )) {
      const environment = fn.Properties?.['Environment'] as
        | { Variables?: Record<string, unknown> }
        | undefined;
      const variables = environment?.Variables ?? {};
      expect(variables['WEFT_SECRETS_KEY_ARN'], id).toEqual({ 'Fn::GetAtt': [keyId, 'Arn'] });
    }
  });

  it('gives the landing beacon its own role', () => {
    const [, beacon] =
      Object.entries(template.Resources).find(
        ([, r]) =>
          r.Type === 'AWS::Lambda::Function' && r.Properties?.['Handler'] === 'handlers/track-event.handler',
      ) ?? [];

    expect(beacon?.Properties?.['Role']).toEqual({ 'Fn::GetAtt': ['TrackEventRole', 'Arn'] });
  });
});
