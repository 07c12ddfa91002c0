// The domain stays pure: no AWS SDK, no Avro, no adapters or handlers, no I/O modules.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(__dirname, '..', '..');
const FORBIDDEN = [
  /^@aws-sdk\//,
  /^avsc$/,
  /^snappyjs$/,
  /^@middy\//,
  /^@aws-lambda-powertools\//,
  /adapters\//,
  /handlers\//,
  /^node:(fs|net|http|https|child_process)$/,
];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sourceFiles(path) : path.endsWith('.ts') ? [path] : [];
  });
}

function importsOf(source: string): string[] {
  return [
    ...source.matchAll(
      /(?:import|export)[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|require\(\s*['"]([^'"]+)['"]\s*\)/g,
    ),
  ].map((m) => m[1] ?? m[2] ?? m[3] ?? '');
}

describe('domain boundary', () => {
  it('finds the import rule able to fail', () => {
    const offending = importsOf("import { S3Client } from '@aws-sdk/client-s3';\nconst x = require('avsc');");
    expect(offending.filter((i) => FORBIDDEN.some((f) => f.test(i)))).toEqual(['@aws-sdk/client-s3', 'avsc']);
  });

  it('domain/ imports nothing but itself and pure node modules', () => {
    const files = sourceFiles(join(ROOT, 'domain'));
    expect(files.length).toBeGreaterThan(5);
    const violations = files.flatMap((file) =>
      importsOf(readFileSync(file, 'utf8'))
        .filter((i) => FORBIDDEN.some((f) => f.test(i)))
        .map((i) => `${file.slice(ROOT.length + 1)} imports ${i}`),
    );
    const escapes = files.flatMap((file) =>
      importsOf(readFileSync(file, 'utf8'))
        .filter((i) => i.startsWith('.'))
        .filter((i) => !join(file, '..', i).startsWith(join(ROOT, 'domain')))
        .map((i) => `${file.slice(ROOT.length + 1)} reaches outside domain/: ${i}`),
    );
    expect([...violations, ...escapes]).toEqual([]);
  });
});
