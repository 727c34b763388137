// Builds dist/citypulse.min.js (minified IIFE exposing window.citypulse) and
// dist/citypulse.esm.js (ES module), and prints their sizes. Run by `npm run build`, after tsc
// has type-checked the sources and written dist/types.
import { build } from 'esbuild';
import { readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const dir = dirname(fileURLToPath(import.meta.url));
const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
const common = {
  absWorkingDir: dir,
  entryPoints: ['src/index.ts'],
  bundle: true,
  platform: 'browser',
  target: ['es2017'],
  define: { __VERSION__: JSON.stringify(pkg.version) },
  legalComments: 'none',
  logLevel: 'warning',
};

await build({ ...common, format: 'iife', globalName: 'citypulse', minify: true, outfile: 'dist/citypulse.min.js' });
await build({ ...common, format: 'esm', outfile: 'dist/citypulse.esm.js' });

for (const f of ['dist/citypulse.min.js', 'dist/citypulse.esm.js']) {
  const path = join(dir, f);
  const gz = gzipSync(readFileSync(path), { level: 9 }).length;
  console.log(`${f}: ${statSync(path).size} bytes, ${gz} gzipped`);
}
