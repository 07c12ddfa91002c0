// Bundles dashboard/src with Chart.js (the `chart.js` package) into dashboard/dist/app.js, the script the dashboard
// function serves. Never committed; built by `npm run build:dashboard`, by the tests' global setup and, as a
// serverless plugin listed before serverless-esbuild, before every package, deploy and offline start (offline
// also rebuilds on every edit), so no stale bundle is ever served or shipped.
'use strict';

const { mkdirSync, readFileSync, renameSync, writeFileSync } = require('node:fs');
const path = require('node:path');
const esbuild = require('esbuild');

const ENTRY = path.join(__dirname, 'src', 'main.js');
const OUTFILE = path.join(__dirname, 'dist', 'app.js');

/**
 * Writes the bundle only when it changed, through a rename: parallel stacks and test runs rebuild side by side,
 * and a handler reading the file must never see half of it.
 */
const writeWhenChanged = {
  name: 'write-when-changed',
  setup(build) {
    build.onEnd((result) => {
      const output = result.errors.length === 0 ? result.outputFiles?.[0] : undefined;
      if (!output) return;
      let current;
      try {
        current = readFileSync(OUTFILE);
      } catch {
        current = undefined;
      }
      if (current?.equals(output.contents)) return;
      mkdirSync(path.dirname(OUTFILE), { recursive: true });
      const temporary = `${OUTFILE}.${process.pid}.tmp`;
      writeFileSync(temporary, output.contents);
      renameSync(temporary, OUTFILE);
    });
  },
};

/** @type {import('esbuild').BuildOptions} */
const OPTIONS = {
  entryPoints: [ENTRY],
  outfile: OUTFILE,
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  minify: true,
  // Chart.js's and @kurkle/color's MIT notices, gathered at the end of the file.
  legalComments: 'eof',
  write: false,
  logLevel: 'warning',
  plugins: [writeWhenChanged],
};

/** Builds dist/app.js once; rejects (after esbuild prints why) when the sources do not build. */
async function buildDashboard() {
  const result = await esbuild.build(OPTIONS);
  return { outfile: OUTFILE, bytes: result.outputFiles[0].contents.length };
}

/** Builds, then keeps rebuilding on every change to the sources until the process ends. */
async function watchDashboard() {
  const context = await esbuild.context(OPTIONS);
  try {
    await context.rebuild();
  } catch (error) {
    await context.dispose();
    throw error;
  }
  await context.watch();
  return context;
}

/** Serverless plugin: the bundle is built before anything packages or serves the dashboard function. */
class DashboardBuildPlugin {
  constructor(_serverless, _options, utils) {
    this.log = utils?.log ?? console;
    this.watching = undefined;
    const build = () => this.build();
    const watch = () => this.watch();
    this.hooks = {
      'before:package:createDeploymentArtifacts': build,
      'before:deploy:function:packageFunction': build,
      'before:invoke:local:invoke': build,
      'before:offline:start': watch,
      'before:offline:start:init': watch,
    };
  }

  async build() {
    const { bytes } = await buildDashboard();
    this.log.verbose?.(`dashboard: built dashboard/dist/app.js (${bytes} bytes)`);
  }

  /** Offline serves the working tree, so the bundle follows the sources while it runs. */
  async watch() {
    this.watching ??= watchDashboard();
    await this.watching;
    this.log.verbose?.('dashboard: built dashboard/dist/app.js; rebuilding on changes to dashboard/src');
  }
}

module.exports = DashboardBuildPlugin;
module.exports.buildDashboard = buildDashboard;
module.exports.watchDashboard = watchDashboard;

if (require.main === module) {
  buildDashboard().then(
    ({ outfile, bytes }) => console.log(`${path.relative(process.cwd(), outfile)}: ${bytes} bytes`),
    () => {
      process.exitCode = 1;
    },
  );
}
