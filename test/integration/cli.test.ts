// The weft CLI as an operator runs it (`node bin/weft.js …`), against DynamoDB Local through environment settings.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { tokenMatches } from '../../domain/tenant';
import { createStores } from '../../handlers/shared/stage';
import { freshTable } from '../support/dynamodb';

const ROOT = join(__dirname, '..', '..');

describe('weft CLI', () => {
  let table: Awaited<ReturnType<typeof freshTable>>;
  const weft = (...args: string[]) => {
    const result = spawnSync(process.execPath, [join(ROOT, 'bin', 'weft.js'), ...args], {
      cwd: mkdtempSync(join(tmpdir(), 'weft-cli-')),
      env: {
        PATH: process.env.PATH,
        WEFT_TABLE: table.tableName,
        WEFT_DYNAMODB_ENDPOINT: table.endpoint,
        WEFT_NO_PROGRESS: '1',
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      },
      encoding: 'utf8',
      timeout: 60_000,
    });
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
  };

  beforeAll(async () => {
    table = await freshTable();
  });

  it('creates a tenant, prints both tokens once, and refuses a duplicate id or folder', async () => {
    const created = weft('tenant', 'create', 'acme', '--folder', 'acme-currents', '--json');
    expect(created.status).toBe(0);
    const printed = JSON.parse(created.stdout) as Record<string, string>;
    expect(Object.keys(printed).sort()).toEqual(['admin_token', 'connect_token', 'folder', 'tenant']);
    expect(printed).toMatchObject({ tenant: 'acme', folder: 'acme-currents' });
    const stored = await createStores(table.config, table.client).tenantStore.get('acme');
    expect(tokenMatches(printed.connect_token!, stored!.connectTokenHash)).toBe(true);
    expect(tokenMatches(printed.admin_token!, stored!.adminTokenHash)).toBe(true);

    const again = weft('tenant', 'create', 'acme', '--folder', 'other');
    expect(again.status).toBe(1);
    expect(again.stderr).toMatch(/already exists/);
    const folderTaken = weft('tenant', 'create', 'globex', '--folder', 'acme-currents');
    expect(folderTaken.status).toBe(1);
    expect(folderTaken.stderr).toMatch(/folder/);
    expect(weft('tenant', 'create', 'Bad Id', '--folder', 'x').stderr).toMatch(/^weft: tenant:/);

    const rotated = JSON.parse(weft('tenant', 'rotate', 'acme', '--json').stdout) as Record<string, string>;
    const after = await createStores(table.config, table.client).tenantStore.get('acme');
    expect(tokenMatches(printed.connect_token!, after!.connectTokenHash)).toBe(false);
    expect(tokenMatches(rotated.connect_token!, after!.connectTokenHash)).toBe(true);
    expect(after!.signingSecrets).toHaveLength(2);
  });

  it('puts an experiment from a file, reports it as a table and as JSON, and prints the snippet', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'weft-exp-')), 'spring.json');
    writeFileSync(
      file,
      JSON.stringify({
        name: 'Spring sale',
        metric: 'clicks',
        variants: [
          { id: 'a', text: 'Spring savings' },
          { id: 'b', text: 'Fresh picks' },
        ],
      }),
    );
    expect(weft('experiment', 'put', 'spring', '-f', file, '--tenant', 'acme').stdout).toMatch(
      /Created experiment spring/,
    );
    const table = weft('report', 'spring', '--tenant', 'acme');
    expect(table.status).toBe(0);
    expect(table.stdout).toMatch(/Spring sale \(spring\) — running, optimising clicks/);
    expect(table.stdout).toMatch(/^a\s+0\s+0\s+0/m);
    const json = JSON.parse(weft('report', 'spring', '--tenant', 'acme', '--json').stdout) as {
      variants: unknown[];
    };
    expect(json.variants).toHaveLength(2);
    expect(weft('report', 'nope', '--tenant', 'acme').status).toBe(1);

    const snippet = weft('snippet', 'spring', '--base-url', 'https://weft.example.com');
    expect(snippet.stdout).toContain(
      // biome-ignore lint/suspicious/noTemplateCurlyInString: `${braze_id}` is Braze Liquid, not a JS placeholder.
      '{% connected_content https://weft.example.com/v1/content?experiment=spring&recipient={{${braze_id} | sha2}}',
    );
    expect(snippet.stdout).toContain('{{weft.link_param}}');
    expect(snippet.stdout).toContain('{{weft.pixel_url}}');
  });

  it('reconciles with zero drift', () => {
    const result = weft('reconcile', '--json');
    expect(result.status).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ drift: 0 });
  });
});
