#!/usr/bin/env node
// `npx weft …`: runs the TypeScript CLI through tsx, so there is no build step.
require('tsx/cjs');
require('../cli/weft.ts');
