// Builds the dashboard bundle (dashboard/dist/app.js, never committed) once per test run, so every test that
// serves the dashboard (unit, integration, e2e) serves the current dashboard/src, never a stale build.
import { execFileSync } from 'node:child_process';
import path from 'node:path';

export default function setup(): void {
  execFileSync(process.execPath, [path.join(__dirname, '..', '..', 'dashboard', 'build.cjs')], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}
