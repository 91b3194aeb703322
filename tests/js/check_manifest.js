// Validates a Teams app manifest offline against the schema shipped in @microsoft/app-manifest.
// Usage: node tests/js/check_manifest.js manifest.json   -> prints a JSON array of errors
'use strict';
const fs = require('fs');
const { AppManifestUtils } = require('@microsoft/app-manifest');

(async () => {
  const manifest = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
  const errors = await AppManifestUtils.validateAgainstSchema(manifest);
  process.stdout.write(JSON.stringify(errors));
})().catch((error) => { console.error(error); process.exit(2); });
