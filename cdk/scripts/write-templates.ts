// `npm run templates`: (re)writes docs/cdk/*.template.json from lib/doc-templates.ts.
import * as fs from 'fs';
import * as path from 'path';
import { DOC_TEMPLATES, DOC_TEMPLATE_DIR, renderTemplate, synthTemplate } from '../lib/doc-templates';

fs.mkdirSync(DOC_TEMPLATE_DIR, { recursive: true });
for (const [file, context] of Object.entries(DOC_TEMPLATES)) {
  const out = path.join(DOC_TEMPLATE_DIR, file);
  fs.writeFileSync(out, renderTemplate(synthTemplate(context)));
  console.log(`wrote ${path.relative(process.cwd(), out)}`);
}
