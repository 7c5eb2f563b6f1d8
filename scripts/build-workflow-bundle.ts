// Pre-bundles the workflow code for production images, so workers start without running webpack.
import fs from 'node:fs';
import path from 'node:path';
import { bundleHeraldWorkflows } from '../src/temporal/workflow-bundle';

async function main() {
  const out = path.resolve(process.argv[2] ?? 'dist/workflow-bundle.js');
  const code = await bundleHeraldWorkflows();
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, code);
  console.log(`workflow bundle written to ${out} (${(code.length / 1024).toFixed(0)} KiB)`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
