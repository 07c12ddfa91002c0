// The weft command line: tenants, experiments, reports and maintenance, against the local stack or a stage.

import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { WeftError } from '../domain/errors';
import { validateExperimentId } from '../domain/experiment';
import { connectedContentSnippet, formatSnippet } from '../domain/snippet';
import {
  DEFAULT_CONNECT_GRACE_SECONDS,
  graceSecondsFromDays,
  issueTenant,
  PSEUDONYM_UPGRADE_MARGIN_SECONDS,
  rotateAdminToken,
  rotateConnectToken,
  rotateSigningSecret,
} from '../domain/tenant';
import { nowSeconds } from '../domain/time';
import { experimentView } from '../domain/views';
import { adminService, createStores, reconcileTable, storeConfig } from '../handlers/shared/stage';
import { readLocalTenantFile, type StoreContext, type StoreFlags, storeContext } from './context';
import { formatReport } from './format-report';
import { progressBar } from './progress';
import { registerReplay } from './replay';
import { registerSimulate } from './simulate';

const program = new Command('weft').description('weft: real-time language optimisation for Braze email');

function withStoreFlags(command: Command): Command {
  return command
    .option('--stage <stage>', 'deployed stage (table weft-<stage>)')
    .option('--table <name>', 'DynamoDB table name')
    .option('--region <region>', 'AWS region')
    .option('--endpoint <url>', 'DynamoDB endpoint (local stack)');
}

function print(json: boolean, value: unknown, text: string) {
  process.stdout.write(json ? `${JSON.stringify(value)}\n` : `${text}\n`);
}

const tenant = program
  .command('tenant')
  .description('create tenants, rotate their tokens and secrets, seal secrets stored by older versions');

/** The tenant commands seal secrets: under the stage's KMS key, or locally (DynamoDB Local) with the key file. */
function withSecretsKey(command: Command): Command {
  return command.option(
    '--secrets-key <arn>',
    'KMS key (ARN or alias) the stage seals tenant secrets under (default: WEFT_SECRETS_KEY_ARN)',
  );
}

type TenantFlags = StoreFlags & { secretsKey?: string; json?: boolean };

/** The tenant store, sealing as the stage does; a deployed stage's secrets are never sealed with a local key. */
function sealingTenantStore(options: TenantFlags) {
  const context = storeContext(options);
  const keyArn = options.secretsKey ?? process.env.WEFT_SECRETS_KEY_ARN ?? null;
  const local = options.endpoint ?? process.env.WEFT_DYNAMODB_ENDPOINT ?? context.local?.dynamodb_endpoint;
  if (!keyArn && !local) {
    throw new Error(
      'tenant secrets of a deployed stage are sealed with its KMS key: pass --secrets-key <key ARN> (or set WEFT_SECRETS_KEY_ARN)',
    );
  }
  const stores = createStores(storeConfig(context.tableName, { secretsKeyArn: keyArn }), context.client);
  return stores.tenantStore;
}

const date = (unixSeconds: number) => new Date(unixSeconds * 1000).toISOString().replace('.000Z', 'Z');

withStoreFlags(
  withSecretsKey(
    tenant
      .command('create <id>')
      .description('create a tenant; prints its connect and admin tokens (shown once)')
      .requiredOption('--folder <folder>', 'the Currents S3 folder Braze writes this tenant’s files to')
      .option('--json', 'machine-readable output'),
  ),
).action(async (id: string, options: TenantFlags & { folder: string }) => {
  const issued = issueTenant(id, options.folder, nowSeconds());
  await sealingTenantStore(options).create(issued.tenant);
  print(
    Boolean(options.json),
    {
      tenant: id,
      folder: issued.tenant.folder,
      connect_token: issued.connectToken,
      admin_token: issued.adminToken,
    },
    [
      `Tenant ${id} created (Currents folder: ${issued.tenant.folder}).`,
      `Connect token (Braze Connected Content): ${issued.connectToken}`,
      `Admin token (admin API and dashboard):   ${issued.adminToken}`,
      'Keep them safe: only their hashes are stored, they cannot be shown again.',
    ].join('\n'),
  );
});

withStoreFlags(
  withSecretsKey(
    tenant
      .command('rotate <id>')
      .description(
        'new tokens: --admin (the old one stops within seconds), --connect (the old one works for the grace ' +
          'period), or --all (both, and a new signing secret; the default)',
      )
      .option('--admin', 'a new admin token (for the admin API and dashboard) only')
      .option('--connect', 'a new connect token (for Braze) only')
      .option('--all', 'new admin and connect tokens and a new tracking-token signing secret')
      .option(
        '--grace-days <days>',
        'how long the old connect token keeps working (0 revokes every old connect token now)',
        String(DEFAULT_CONNECT_GRACE_SECONDS / 86_400),
      )
      .option('--json', 'machine-readable output'),
  ),
).action(
  async (
    id: string,
    options: TenantFlags & { admin?: boolean; connect?: boolean; all?: boolean; graceDays: string },
  ) => {
    const all = Boolean(options.all) || (!options.admin && !options.connect);
    const graceSeconds = graceSecondsFromDays(options.graceDays);
    const store = sealingTenantStore(options);
    const existing = await store.get(id);
    if (!existing) throw new Error(`tenant ${id} does not exist`);
    const now = nowSeconds();
    let next = existing;
    let connectToken: string | null = null;
    let adminToken: string | null = null;
    let graceUntil: number | null = null;
    if (all || options.connect) {
      const rotated = rotateConnectToken(next, now, graceSeconds);
      ({ tenant: next, connectToken, graceUntil } = rotated);
    }
    if (all || options.admin) ({ tenant: next, adminToken } = rotateAdminToken(next, now));
    if (all) next = rotateSigningSecret(next, now);
    await store.replaceCredentials(next, existing);
    print(
      Boolean(options.json),
      {
        tenant: id,
        folder: existing.folder,
        ...(connectToken ? { connect_token: connectToken, connect_grace_until: graceUntil } : {}),
        ...(adminToken ? { admin_token: adminToken } : {}),
        signing_secret_rotated: all,
      },
      [
        `Tenant ${id} rotated.`,
        ...(adminToken
          ? [`Admin token:   ${adminToken}`, '  The old admin token stops working within 10 seconds.']
          : []),
        ...(connectToken
          ? [
              `Connect token: ${connectToken}`,
              graceSeconds > 0
                ? `  The old connect token keeps working until ${date(graceUntil!)}: update Braze before then.`
                : '  Every old connect token stops working within 10 seconds.',
            ]
          : []),
        ...(all ? ['A new signing secret signs tracking tokens; links already sent keep counting.'] : []),
      ].join('\n'),
    );
  },
);

withStoreFlags(
  withSecretsKey(
    tenant
      .command('seal-secrets [id]')
      .description(
        'seal the secrets of tenants stored by older versions (and give their new experiments ' +
          'per-experiment recipient pseudonyms); every tenant unless an id is given; safe to repeat',
      )
      .option('--json', 'machine-readable output'),
  ),
).action(async (id: string | undefined, options: TenantFlags) => {
  const store = sealingTenantStore(options);
  const ids = id ? [id] : (await store.list()).map((t) => t.id).sort();
  // Experiments created from now (and a margin for clocks) on get per-experiment pseudonyms.
  const since = nowSeconds() + PSEUDONYM_UPGRADE_MARGIN_SECONDS;
  const results: Array<{ tenant: string; result: 'upgraded' | 'current' }> = [];
  for (const tenantId of ids)
    results.push({ tenant: tenantId, result: await store.upgrade(tenantId, since) });
  print(
    Boolean(options.json),
    { tenants: results },
    results.length === 0
      ? 'No tenants.'
      : results
          .map(
            ({ tenant: t, result }) =>
              `${t}: ${result === 'upgraded' ? 'sealed and upgraded' : 'already sealed'}`,
          )
          .join('\n'),
  );
});

const tenantOption = (command: Command) =>
  command.option('--tenant <id>', 'tenant id (default: the local stack’s tenant, or WEFT_TENANT)');

function tenantOf(options: { tenant?: string }, context: StoreContext): string {
  const id = options.tenant ?? process.env.WEFT_TENANT ?? context.local?.tenant;
  if (!id) throw new Error('which tenant? pass --tenant <id>');
  return id;
}

async function adminFor(options: StoreFlags & { tenant?: string }) {
  const context = storeContext(options);
  const tenantId = tenantOf(options, context);
  const tenant = await context.stores.tenantStore.get(tenantId);
  if (!tenant) throw new Error(`tenant ${tenantId} does not exist`);
  return { context, tenant, admin: adminService(context.stores) };
}

const experiment = program.command('experiment').description('create and update experiments');
withStoreFlags(
  tenantOption(
    experiment
      .command('put <id>')
      .description('create or update an experiment from a JSON file (same body as PUT /v1/experiments/<id>)')
      .requiredOption('-f, --file <file>', 'JSON file')
      .option('--json', 'machine-readable output'),
  ),
).action(async (id: string, options: StoreFlags & { tenant?: string; file: string; json?: boolean }) => {
  const { tenant, admin } = await adminFor(options);
  const body = JSON.parse(readFileSync(options.file, 'utf8')) as unknown;
  const { experiment: saved, created } = await admin.put(tenant, id, body);
  print(
    Boolean(options.json),
    experimentView(saved),
    `${created ? 'Created' : 'Updated'} experiment ${saved.id} (${saved.variants.filter((v) => v.state === 'active').length} active variants).`,
  );
});

withStoreFlags(
  tenantOption(
    program
      .command('report <id>')
      .description('the experiment report as a table')
      .option('--json', 'the report JSON'),
  ),
).action(async (id: string, options: StoreFlags & { tenant?: string; json?: boolean }) => {
  const { tenant, admin } = await adminFor(options);
  const report = await admin.report(tenant, id);
  print(Boolean(options.json), report, formatReport(report));
});

withStoreFlags(
  tenantOption(
    program
      .command('snippet <id>')
      .description('the Connected Content Liquid for a subject line and a body')
      .option('--base-url <url>', 'public base URL of weft (default: the local stack’s)'),
  ),
).action(async (id: string, options: StoreFlags & { tenant?: string; baseUrl?: string }) => {
  const local = readLocalTenantFile();
  const baseUrl = options.baseUrl ?? process.env.WEFT_PUBLIC_BASE_URL ?? local?.base_url;
  if (!baseUrl) throw new Error('pass --base-url https://your-weft-host');
  const usingLocal = !options.baseUrl && local && baseUrl === local.base_url;
  const snippet = connectedContentSnippet({
    baseUrl,
    experimentId: validateExperimentId(id),
    connectToken: usingLocal ? local.connect_token : 'CONNECT_TOKEN',
  });
  process.stdout.write(formatSnippet(snippet));
});

withStoreFlags(
  program
    .command('reconcile')
    .description('recount sends, opens and clicks from the assignments and compare them with the counters')
    .option('--fix', 'make the counters agree with the recount')
    .option(
      '--since-days <days>',
      'compare send buckets of the last N days (older assignments may have expired)',
      '27',
    )
    .option('--json', 'machine-readable output'),
).action(async (options: StoreFlags & { fix?: boolean; sinceDays: string; json?: boolean }) => {
  const context = storeContext(options);
  const bar = progressBar('reconcile');
  const result = await reconcileTable(context.client, context.tableName, {
    fix: Boolean(options.fix),
    since: nowSeconds() - Number(options.sinceDays) * 86_400,
    onProgress: bar.update,
  }).finally(bar.done);
  const lines = result.experiments.map(
    (e) =>
      `${e.tenant}/${e.experiment}: ${e.drift === 0 ? 'exact' : `drift ${e.drift}${e.fixed ? ' (fixed)' : ''}`}`,
  );
  print(Boolean(options.json), result, [...lines, `total drift: ${result.drift}`].join('\n'));
});

registerSimulate(program);
registerReplay(program);

program.parseAsync(process.argv).catch((error: unknown) => {
  const message = error instanceof WeftError || error instanceof Error ? error.message : String(error);
  process.stderr.write(`weft: ${message}\n`);
  process.exit(1);
});
