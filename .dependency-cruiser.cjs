// Layer rules for every folder (STYLE.md: "an import-boundary rule enforced by a tool"). Run by
// test/unit/dependency-rules.test.ts in `npm test`, and by `npm run lint:deps`.
//
// Layers, lowest first: domain/ → adapters/ → handlers/ → cli/, local/, bench/ (entry points and dev tools);
// simulation/ sits on domain/ beside them; dashboard/ is browser code on its own. Paths are relative to the
// cruise's base directory, so test/fixtures/layers/ can be checked with these same rules.

/** Node builtins that do I/O: the domain computes, it never touches the network, disk or processes. */
const IO_BUILTINS =
  '^(fs|fs/promises|net|http|https|http2|child_process|dgram|dns|tls|cluster|worker_threads|readline)$';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'No import cycles anywhere: they hide a missing seam and make load order matter.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      comment: 'Every import resolves (a typo or a missing package is a build break, not a warning).',
      from: {},
      to: { couldNotResolve: true },
    },
    {
      name: 'no-undeclared-package',
      severity: 'error',
      comment: 'Packages are imported only when package.json declares them (no leaning on transitive ones).',
      from: {},
      to: { dependencyTypes: ['npm-no-pkg', 'npm-unknown'] },
    },

    // domain/: pure.
    {
      name: 'domain-is-pure',
      severity: 'error',
      comment:
        'domain/ imports only domain/ and node builtins: never a package (@aws-sdk, avsc, @middy, ' +
        '@aws-lambda-powertools…) and never adapters/, handlers/, cli/, local/, bench/, simulation/, dashboard/.',
      from: { path: '^domain/' },
      to: { pathNot: '^domain/', dependencyTypesNot: ['core'] },
    },
    {
      name: 'domain-does-no-io',
      severity: 'error',
      comment: 'domain/ uses no I/O builtins (fs, net, http, child_process…): I/O belongs to adapters.',
      from: { path: '^domain/' },
      to: { dependencyTypes: ['core'], path: IO_BUILTINS },
    },

    // adapters/: domain below them, one technology per folder.
    {
      name: 'adapters-below-the-edge',
      severity: 'error',
      comment: 'adapters/ may import domain/ and adapters/, never the layers above or beside them.',
      from: { path: '^adapters/' },
      to: { path: '^(handlers|cli|local|bench|simulation|dashboard|test|bin)/' },
    },
    {
      name: 'adapter-stays-in-its-technology',
      severity: 'error',
      comment:
        'An adapter folder imports its own folder and adapters/shared/ only, not another technology ' +
        '(the one exception, adapters/s3 → adapters/avro, has its own rule below).',
      from: { path: '^adapters/([^/]+)/', pathNot: '^adapters/s3/' },
      to: { path: '^adapters/', pathNot: ['^adapters/$1/', '^adapters/shared/'] },
    },
    {
      name: 'adapter-s3-reads-avro-only',
      severity: 'error',
      comment: 'adapters/s3 streams Currents files through the Avro reader; no other adapter.',
      from: { path: '^adapters/s3/' },
      to: { path: '^adapters/', pathNot: '^adapters/(s3|avro|shared)/' },
    },

    // handlers/: composition roots over domain/, adapters/ and handlers/shared/.
    {
      name: 'handlers-only-below',
      severity: 'error',
      comment: 'handlers/ imports domain/, adapters/ and handlers/shared/ (and packages), nothing above.',
      from: { path: '^handlers/' },
      // handlers/ → handlers/*.ts is the next rule's; packages and builtins are free.
      to: { pathNot: ['^(domain|adapters|handlers)/', 'node_modules/'], dependencyTypesNot: ['core'] },
    },
    {
      name: 'no-handler-imports-a-handler',
      severity: 'error',
      comment:
        'A handler file (handlers/*.ts) is a Lambda entry point: no other handler, and not handlers/shared/, ' +
        'imports it. Shared plumbing lives in handlers/shared/.',
      from: { path: '^handlers/' },
      to: { path: '^handlers/[^/]+$' },
    },

    // cli/, local/, bench/: entry points and dev tools on top; only they and tests reach into each other.
    {
      name: 'nothing-imports-cli',
      severity: 'error',
      comment: 'cli/ is an entry point: only cli/ itself, bin/weft.js and tests import it.',
      from: { pathNot: '^(cli|bin|test)/' },
      to: { path: '^cli/' },
    },
    {
      name: 'nothing-imports-bench',
      severity: 'error',
      comment: 'bench/ is an entry point: only bench/ itself and tests import it.',
      from: { pathNot: '^(bench|test)/' },
      to: { path: '^bench/' },
    },
    {
      name: 'local-only-for-dev-tools',
      severity: 'error',
      comment:
        'local/ is the local stack (DynamoDB Local, the local-tenant file): used by itself, the dev tools ' +
        'that run against it (cli/, bench/) and tests; never by deployed code.',
      from: { pathNot: '^(local|cli|bench|test)/' },
      to: { path: '^local/' },
    },
    {
      name: 'no-test-code-in-the-product',
      severity: 'error',
      comment: 'Nothing but tests imports test/; bench/ may reuse test/support/ builders and fixtures.',
      from: { pathNot: '^(test|bench)/' },
      to: { path: '^test/' },
    },
    {
      name: 'bench-reuses-test-support-only',
      severity: 'error',
      comment: 'bench/ may import test/support/, never a test file.',
      from: { path: '^bench/' },
      to: { path: '^test/', pathNot: '^test/support/' },
    },

    // simulation/: pure, on domain/ only.
    {
      name: 'simulation-on-domain-only',
      severity: 'error',
      comment: 'simulation/ imports domain/ and itself, nothing else (no packages, no builtins).',
      from: { path: '^simulation/' },
      to: { pathNot: '^(simulation|domain)/' },
    },
    {
      name: 'simulation-used-by-tools-only',
      severity: 'error',
      comment: 'Only cli/, bench/ and tests import simulation/.',
      from: { pathNot: '^(simulation|cli|bench|test)/' },
      to: { path: '^simulation/' },
    },

    // dashboard/: browser code, bundled by dashboard/build.cjs (a Node script).
    {
      name: 'dashboard-is-browser-code',
      severity: 'error',
      comment: 'dashboard/ (browser code) imports only dashboard/ and chart.js.',
      from: { path: '^dashboard/', pathNot: '^dashboard/build\\.cjs$' },
      to: { pathNot: ['^dashboard/', 'node_modules/chart\\.js/'] },
    },
    {
      name: 'dashboard-build-uses-esbuild-only',
      severity: 'error',
      comment: 'dashboard/build.cjs bundles with esbuild and node builtins, nothing of the service.',
      from: { path: '^dashboard/build\\.cjs$' },
      to: { pathNot: 'node_modules/esbuild/', dependencyTypesNot: ['core'] },
    },
    {
      name: 'nothing-imports-the-dashboard',
      severity: 'error',
      comment: 'The dashboard is served as a built file, never imported (tests may build it).',
      from: { pathNot: '^(dashboard|test)/' },
      to: { path: '^dashboard/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules/' },
    // Not node_modules: excluded modules vanish from the graph, and then so would `domain → @aws-sdk`.
    exclude: {
      path: '^(dashboard/dist|\\.esbuild[^/]*|\\.serverless|\\.weft|test-results|test/fixtures)/',
    },
    // Type-only imports count: a domain file may not even name an SDK type.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    combinedDependencies: false,
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      mainFields: ['module', 'main', 'types', 'typings'],
    },
    skipAnalysisNotInRules: true,
  },
};
