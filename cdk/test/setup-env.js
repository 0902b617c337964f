// Tests synthesize with the placeholder Lambda code, whatever the shell says: no Rust cross build
// needed, and the committed templates in docs/cdk/ (whose asset hash depends on the code) compare
// equal. No CLI telemetry.
process.env.PIXFRONT_LAMBDA_ASSET = 'placeholder';
process.env.CDK_DISABLE_CLI_TELEMETRY = 'true';
