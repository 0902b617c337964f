// One folder for every synthesized assembly of this run (CDK_OUTDIR, read by `new App()`), made
// here and removed in global-teardown.js: without it each App makes its own cdk.out* folder in
// the system temp dir and leaves it there.
const fs = require('fs');
const os = require('os');
const path = require('path');

module.exports = async () => {
  process.env.PIXFRONT_CDK_TEST_OUT = fs.mkdtempSync(path.join(os.tmpdir(), 'pixfront-cdk-synth-'));
};
