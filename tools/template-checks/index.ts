// Template checks against the code: the actions each function's handler calls, derived from the source, then
// every rule of ./check-template over the template.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { type CheckOptions, checkTemplate, type Finding, type HandlerActions } from './check-template';
import type { Template } from './cloudformation';
import { prop, resourcesOfType } from './cloudformation';
import { type CodeActions, createCodeAnalyzer } from './code-actions';

export type { Finding, Rule } from './check-template';
export { checkTemplate } from './check-template';
export type { Template } from './cloudformation';
export type { CodeActions } from './code-actions';
export { createCodeAnalyzer } from './code-actions';

const SOURCE_EXTENSIONS = ['.ts', '.mts', '.js', '.mjs', '.cjs'];

/** `handlers/admin.handler` → `handlers/admin.ts`, when that file exists in the project. */
export function handlerSourceFile(projectRoot: string, handler: string): string | null {
  const base = handler.replace(/\.[^./]+$/, '');
  for (const extension of SOURCE_EXTENSIONS) {
    if (existsSync(join(projectRoot, base + extension))) return base + extension;
  }
  return null;
}

export interface DerivedActions {
  /** For `checkTemplate`. */
  readonly codeActions: CheckOptions['codeActions'];
  /** The analysis of each handler, by `Handler` property, for reports and tests. */
  readonly byHandler: ReadonlyMap<string, CodeActions>;
}

/** Analyses the handler of every function in the template (one TypeScript program for all of them). */
export function deriveCodeActions(projectRoot: string, template: Template): DerivedActions {
  const handlers = resourcesOfType(template, 'AWS::Lambda::Function').map(([, fn]) =>
    String(prop(fn, 'Handler') ?? ''),
  );
  const files = new Map<string, string>();
  for (const handler of handlers) {
    const file = handlerSourceFile(projectRoot, handler);
    if (file) files.set(handler, file);
  }
  const analyzer = createCodeAnalyzer({ projectRoot, entries: [...new Set(files.values())] });
  const byHandler = new Map<string, CodeActions>();
  for (const [handler, file] of files) byHandler.set(handler, analyzer.actionsOf(file));
  return {
    byHandler,
    codeActions: (handler: string): HandlerActions | null => {
      const code = byHandler.get(handler);
      if (!code) return null;
      return {
        actions: code.actions,
        unmapped: code.calls
          .filter((call) => call.actions === null)
          .map((call) => `${call.at} ${call.command}`),
      };
    },
  };
}

/** Every finding for the template, with the actions derived from the project's code. */
export function checkTemplateAgainstCode(projectRoot: string, template: Template): Finding[] {
  return checkTemplate(template, deriveCodeActions(projectRoot, template));
}
