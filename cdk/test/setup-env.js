// Tests synthesize with the placeholder Lambda code, whatever the shell says: no Rust cross build
// needed, and the committed templates in docs/cdk/ (whose asset hash depends on the code) compare
// equal. No CLI telemetry.
process.env.PIXFRONT_LAMBDA_ASSET = 'placeholder';
process.env.CDK_DISABLE_CLI_TELEMETRY = 'true';
// Each test file synthesizes into its own folder under the run's (see global-setup.js), so test
// files running in parallel never share an assembly and nothing is left in the temp dir.
if (process.env.PIXFRONT_CDK_TEST_OUT) {
  const fs = require('fs');
  const path = require('path');
  process.env.CDK_OUTDIR = fs.mkdtempSync(path.join(process.env.PIXFRONT_CDK_TEST_OUT, 'file-'));
}
