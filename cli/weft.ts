// The weft command line: tenants, experiments, reports and maintenance, against the local stack or a stage.
import { Command } from 'commander';
import { DynamoDbTenantStore } from '../adapters/dynamodb/dynamodb-tenant-store';
import { WeftError } from '../domain/errors';
import { issueTenant, rotateTenant } from '../domain/tenant';
import { nowSeconds } from '../domain/time';
import { type StoreFlags, storeContext } from './context';

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

const tenant = program.command('tenant').description('create tenants and rotate their tokens');

withStoreFlags(
  tenant
    .command('create <id>')
    .description('create a tenant; prints its connect and admin tokens (shown once)')
    .requiredOption('--folder <folder>', 'the Currents S3 folder Braze writes this tenant’s files to')
    .option('--json', 'machine-readable output'),
).action(async (id: string, options: StoreFlags & { folder: string; json?: boolean }) => {
  const context = storeContext(options);
  const issued = issueTenant(id, options.folder, nowSeconds());
  await new DynamoDbTenantStore(context.client, context.tableName).create(issued.tenant);
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
  tenant
    .command('rotate <id>')
    .description(
      'new connect and admin tokens and signing secret; old tracking links keep working for 90 days',
    )
    .option('--json', 'machine-readable output'),
).action(async (id: string, options: StoreFlags & { json?: boolean }) => {
  const context = storeContext(options);
  const store = new DynamoDbTenantStore(context.client, context.tableName);
  const existing = await store.get(id);
  if (!existing) throw new Error(`tenant ${id} does not exist`);
  const issued = rotateTenant(existing, nowSeconds());
  await store.replaceCredentials(issued.tenant);
  print(
    Boolean(options.json),
    {
      tenant: id,
      folder: existing.folder,
      connect_token: issued.connectToken,
      admin_token: issued.adminToken,
    },
    [
      `Tenant ${id} rotated. The old connect and admin tokens no longer work.`,
      `Connect token: ${issued.connectToken}`,
      `Admin token:   ${issued.adminToken}`,
    ].join('\n'),
  );
});

program.parseAsync(process.argv).catch((error: unknown) => {
  const message = error instanceof WeftError || error instanceof Error ? error.message : String(error);
  process.stderr.write(`weft: ${message}\n`);
  process.exit(1);
});
