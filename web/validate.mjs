#!/usr/bin/env node
// Validates an OpenAPI document with @apidevtools/swagger-parser (pinned in
// web/package.json): the OpenAPI 3.1 JSON Schema, every $ref resolved, and
// the parser's own checks (unique operationIds, path parameters declared).
//   node web/validate.mjs web/openapi.json
import SwaggerParser from '@apidevtools/swagger-parser';

const file = process.argv[2] ?? new URL('./openapi.json', import.meta.url).pathname;
try {
  const api = await SwaggerParser.validate(file);
  const ops = Object.values(api.paths).reduce((n, p) => n + Object.keys(p).length, 0);
  console.log(`${file}: valid OpenAPI ${api.openapi}, ${Object.keys(api.paths).length} paths, ${ops} operations`);
} catch (e) {
  console.error(`${file}: ${e.message}`);
  process.exit(1);
}
