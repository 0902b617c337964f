const fs = require('fs');

module.exports = async () => {
  const dir = process.env.PIXFRONT_CDK_TEST_OUT;
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
};
