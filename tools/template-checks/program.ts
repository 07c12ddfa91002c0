// The TypeScript program the code analysis runs on: the project's compiler options, the entry files as roots
// (the program then holds what they import, far quicker than the whole project), and optionally source files
// held in memory instead of on disk, for tests.
import { dirname, join, resolve } from 'node:path';
import ts from 'typescript';

export interface CodeAnalyzerOptions {
  readonly projectRoot: string;
  /**
   * The entry files to analyse (project-relative), the program's roots: the program holds them and what they
   * import, which is far quicker to build than the whole project.
   */
  readonly entries: readonly string[];
  /** Default `tsconfig.json` in the project root. */
  readonly tsconfig?: string;
  /**
   * Source files by project-relative path, read instead of the disk's (for tests: a small program whose
   * reachability is known).
   */
  readonly overlay?: Readonly<Record<string, string>>;
}

function ancestors(folder: string): string[] {
  const parent = dirname(folder);
  return parent === folder ? [folder] : [folder, ...ancestors(parent)];
}

export function createProgram(options: CodeAnalyzerOptions): ts.Program {
  const root = resolve(options.projectRoot);
  const configPath = join(root, options.tsconfig ?? 'tsconfig.json');
  const config = ts.readConfigFile(configPath, ts.sys.readFile);
  if (config.error) throw new Error(ts.flattenDiagnosticMessageText(config.error.messageText, '\n'));
  const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, dirname(configPath));
  const compilerOptions = { ...parsed.options, noEmit: true };
  const entries = options.entries.map((entry) => resolve(root, entry));
  if (!options.overlay) return ts.createProgram({ rootNames: entries, options: compilerOptions });

  const overlay = new Map(Object.entries(options.overlay).map(([path, text]) => [join(root, path), text]));
  const host = ts.createCompilerHost(compilerOptions, true);
  const { fileExists, readFile, getSourceFile, directoryExists } = host;
  const folders = new Set([...overlay.keys()].flatMap((file) => ancestors(dirname(file))));
  host.directoryExists = (folder) =>
    folders.has(resolve(folder)) || (directoryExists?.call(host, folder) ?? false);
  host.fileExists = (file) => overlay.has(resolve(file)) || fileExists.call(host, file);
  host.readFile = (file) => overlay.get(resolve(file)) ?? readFile.call(host, file);
  host.getSourceFile = (file, languageVersion, ...rest) => {
    const text = overlay.get(resolve(file));
    return text === undefined
      ? getSourceFile.call(host, file, languageVersion, ...rest)
      : ts.createSourceFile(file, text, languageVersion, true);
  };
  return ts.createProgram({ rootNames: entries, options: compilerOptions, host });
}
