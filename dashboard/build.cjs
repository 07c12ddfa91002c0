// Bundles dashboard/src with Chart.js (the `chart.js` package) into dashboard/dist/app.js, and dashboard/styles/
// (index.css and the files it `@import`s) into dashboard/dist/style.css: the script and the one stylesheet the dashboard
// function serves. Never committed; built by `npm run build:dashboard`, by the tests' global setup and, as a
// serverless plugin listed before serverless-esbuild, before every package, deploy and offline start (offline
// also rebuilds on every edit), so no stale bundle is ever served or shipped.
'use strict';

const { mkdirSync, readFileSync, renameSync, writeFileSync } = require('node:fs');
const path = require('node:path');
const esbuild = require('esbuild');

const OUTDIR = path.join(__dirname, 'dist');
/** Output name (without extension) → entry: dist/app.js and dist/style.css. */
const ENTRIES = {
  app: path.join(__dirname, 'src', 'main.js'),
  style: path.join(__dirname, 'styles', 'index.css'),
};

/**
 * Writes each output only when it changed, through a rename: parallel stacks and test runs rebuild side by side,
 * and a handler reading a file must never see half of it.
 */
const writeWhenChanged = {
  name: 'write-when-changed',
  setup(build) {
    build.onEnd((result) => {
      if (result.errors.length > 0) return;
      for (const output of result.outputFiles ?? []) writeIfChanged(output.path, output.contents);
    });
  },
};

function writeIfChanged(file, contents) {
  let current;
  try {
    current = readFileSync(file);
  } catch {
    current = undefined;
  }
  if (current?.equals(contents)) return;
  mkdirSync(path.dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, contents);
  renameSync(temporary, file);
}

/** @type {import('esbuild').BuildOptions} */
const OPTIONS = {
  entryPoints: ENTRIES,
  outdir: OUTDIR,
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

/** Builds dist/app.js and dist/style.css once; rejects (after esbuild prints why) when the sources do not build. */
async function buildDashboard() {
  const result = await esbuild.build(OPTIONS);
  return result.outputFiles.map((output) => ({ outfile: output.path, bytes: output.contents.length }));
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
    const outputs = await buildDashboard();
    this.log.verbose?.(`dashboard: built ${outputs.map(describe).join(', ')}`);
  }

  /** Offline serves the working tree, so the bundle follows the sources while it runs. */
  async watch() {
    this.watching ??= watchDashboard();
    await this.watching;
    this.log.verbose?.(
      'dashboard: built dashboard/dist/app.js and style.css; rebuilding on changes to dashboard/src and styles',
    );
  }
}

function describe({ outfile, bytes }) {
  return `${path.relative(process.cwd(), outfile)} (${bytes} bytes)`;
}

module.exports = DashboardBuildPlugin;
module.exports.buildDashboard = buildDashboard;
module.exports.watchDashboard = watchDashboard;

if (require.main === module) {
  buildDashboard().then(
    (outputs) => console.log(outputs.map(describe).join('\n')),
    () => {
      process.exitCode = 1;
    },
  );
}
