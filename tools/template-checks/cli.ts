// `npx tsx tools/template-checks/cli.ts [template.json]`: the findings for a template (default: the service as
// `serverless package --stage ci` builds it), one per line, and the actions derived for each handler.
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { checkTemplate, deriveCodeActions, type Template } from './index';
import { packageService } from './package-service';

async function main(): Promise<void> {
  const projectRoot = resolve(__dirname, '..', '..');
  const file = process.argv[2];
  const template: Template = file
    ? JSON.parse(await readFile(resolve(file), 'utf8'))
    : (await packageService(projectRoot)).template;
  const derived = deriveCodeActions(projectRoot, template);
  for (const [handler, code] of derived.byHandler) {
    process.stdout.write(`${handler}: ${code.actions.join(', ') || '(no AWS calls)'}\n`);
  }
  const findings = checkTemplate(template, derived);
  for (const finding of findings) {
    process.stdout.write(`${finding.rule}  ${finding.resource}  ${finding.message}\n`);
  }
  process.stdout.write(`${findings.length} finding(s)\n`);
  process.exitCode = findings.length > 0 ? 1 : 0;
}

main().catch((error) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 2;
});
