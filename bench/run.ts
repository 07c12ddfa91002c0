// `npm run bench`: every benchmark, each reported as a ratio against a baseline measured in this same run.
import { benchBundle } from './bundle.bench';
import { benchCapacity } from './capacity.bench';
import { benchContent } from './content.bench';
import { benchMemory } from './content-memory';
import { benchIngestion } from './ingestion.bench';
import { benchStats } from './stats.bench';

const benches: Array<[string, () => Promise<string[]>]> = [
  ['content', benchContent],
  ['memory', benchMemory],
  ['stats', benchStats],
  ['ingestion', benchIngestion],
  ['bundle', benchBundle],
  ['capacity', benchCapacity],
];

async function main() {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
  const only = process.argv[2];
  for (const [name, bench] of benches) {
    if (only && only !== name) continue;
    console.log(`# ${name}`);
    for (const line of await bench()) console.log(line);
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
