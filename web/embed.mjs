#!/usr/bin/env node
// Generates the sources that embed the documentation in the binary:
//
//   OUT/docs_assets.S   the bytes of every asset, with .incbin
//   OUT/docs_assets.c   the table of src/api/docs.h: path, content type,
//                       ETag, cache policy, pointer and length
//   OUT/pages/*         the HTML pages of web/pages with their asset paths
//                       filled in, and web/openapi.json made compact
//
// Usage (from the repository root, as the Makefile runs it):
//   node web/embed.mjs build/gen
//
// Only the files the pages load are embedded, from web/node_modules as
// `npm ci` installed it from web/package-lock.json. Their URL paths carry the
// package version (/docs/assets/swagger-ui-dist@5.35.0/...), and those of our
// own scripts and styles a hash of their bytes, so all of them can be cached
// for a year as immutable; the pages and /openapi.json are revalidated.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

import { incbinAsm, incbinTable } from '../scripts/incbin.mjs';

const web = dirname(fileURLToPath(import.meta.url));
const out = process.argv[2];
if (!out) {
  console.error('usage: node web/embed.mjs OUTDIR');
  process.exit(2);
}
mkdirSync(join(out, 'pages'), { recursive: true });

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.png': 'image/png',
  '.json': 'application/json',
};

function fail(msg) {
  console.error(`embed: ${msg}`);
  process.exit(1);
}

function contentType(p) {
  const ext = p.slice(p.lastIndexOf('.'));
  return TYPES[ext] ?? fail(`no content type for ${p}`);
}

function hash(bytes) {
  return createHash('sha256').update(bytes).digest('base64url');
}

// The installed version of an npm package, which must be the pinned one.
function installed(pkg) {
  const pinned = JSON.parse(readFileSync(join(web, 'package.json'), 'utf8')).dependencies[pkg];
  let meta;
  try {
    meta = JSON.parse(readFileSync(join(web, 'node_modules', pkg, 'package.json'), 'utf8'));
  } catch {
    fail(`web/node_modules/${pkg} is missing: run "npm ci --prefix web"`);
  }
  if (meta.version !== pinned)
    fail(`web/node_modules/${pkg} is ${meta.version}, web/package.json pins ${pinned}: run "npm ci --prefix web"`);
  return meta.version;
}

const assets = []; // { path, file, immutable, html }

function add(path, file, opts = {}) {
  assets.push({ path, file, immutable: !!opts.immutable, html: path.endsWith('.html') || !!opts.html });
}

// npm assets, under their package's version.
const swaggerDir = `/docs/assets/swagger-ui-dist@${installed('swagger-ui-dist')}`;
const redocDir = `/docs/assets/redoc@${installed('redoc')}`;
for (const f of ['swagger-ui.css', 'swagger-ui-bundle.js', 'favicon-32x32.png', 'favicon-16x16.png'])
  add(`${swaggerDir}/${f}`, join(web, 'node_modules/swagger-ui-dist', f), { immutable: true });
// ReDoc's sidebar shows Redocly's logo from their CDN, with no option to
// turn it off: the documentation must not ask another host for anything (and
// the page's CSP would refuse it with a console error). An empty src loads
// nothing, and ReDoc's own onError handler then drops the image. The patch
// must apply exactly once, so that an upgrade that changes it is noticed.
const patches = [{
  file: 'node_modules/redoc/bundles/redoc.standalone.js',
  from: 'src:"https://cdn.redoc.ly/redoc/logo-mini.svg"',
  to: 'src:""',
}];
function patched(rel) {
  const text = readFileSync(join(web, rel), 'utf8');
  const mine = patches.filter((p) => p.file === rel);
  if (mine.length === 0)
    return join(web, rel);
  let outText = text;
  for (const p of mine) {
    const n = outText.split(p.from).length - 1;
    if (n !== 1)
      fail(`web/${rel}: expected "${p.from}" once, found it ${n} times: update the patch in web/embed.mjs`);
    outText = outText.replace(p.from, p.to);
  }
  mkdirSync(join(out, 'vendor'), { recursive: true });
  const file = join(out, 'vendor', rel.split('/').pop());
  writeFileSync(file, outText);
  return file;
}
add(`${redocDir}/redoc.standalone.js`, patched('node_modules/redoc/bundles/redoc.standalone.js'),
    { immutable: true });

// Our own scripts and styles, under a hash of their bytes.
const subst = { 'swagger-ui-dist': swaggerDir, redoc: redocDir };
for (const f of ['docs.css', 'docs-init.js', 'redoc-init.js']) {
  const file = join(web, 'pages', f);
  const dot = f.lastIndexOf('.');
  const path = `/docs/assets/${f.slice(0, dot)}.${createHash('sha256').update(readFileSync(file)).digest('hex').slice(0, 12)}${f.slice(dot)}`;
  add(path, file, { immutable: true });
  subst[f] = path;
}

// The pages: {{name}} becomes the asset's path, relative to the page (both
// pages sit at the root), so that the service also works under a prefix.
for (const [page, path] of [['docs.html', '/docs'], ['redoc.html', '/redoc']]) {
  const html = readFileSync(join(web, 'pages', page), 'utf8').replace(/\{\{([^}]+)\}\}/g, (_, k) =>
    k in subst ? subst[k].slice(1) : fail(`${page}: unknown placeholder {{${k}}}`));
  const file = join(out, 'pages', page);
  writeFileSync(file, html);
  add(path, file, { html: true });
}

// The OpenAPI document, checked to be JSON and made compact.
let doc;
try {
  doc = JSON.parse(readFileSync(join(web, 'openapi.json'), 'utf8'));
} catch (e) {
  fail(`web/openapi.json: ${e.message}`);
}
writeFileSync(join(out, 'pages', 'openapi.json'), JSON.stringify(doc));
add('/openapi.json', join(out, 'pages', 'openapi.json'));

// The sources (scripts/incbin.mjs).
const BY = 'web/embed.mjs';
const cstr = (s) => JSON.stringify(s); // these strings are plain ASCII
const files = [], syms = [], rows = [];
assets.forEach((a, i) => {
  const bytes = readFileSync(a.file);
  const sym = `gh_docs_asset_${i}`;
  files.push({ sym, rel: relative(process.cwd(), a.file), size: statSync(a.file).size, nul: false });
  syms.push(sym);
  rows.push(`    {${cstr(a.path)}, ${cstr(contentType(a.file))}, ${cstr(`"${hash(bytes).slice(0, 22)}"`)}, ` +
            `${a.immutable}, ${a.html}, ${sym}, ${bytes.length}},`);
});
const asm = incbinAsm(BY, 'the documentation assets', files, fail);
const c = incbinTable(BY, 'the documentation assets', {
  header: 'api/docs.h', type: 'docs_asset', array: 'docs_assets', count: 'docs_nassets',
  elem: 'unsigned char', syms, rows,
});

writeFileSync(join(out, 'docs_assets.S'), asm);
writeFileSync(join(out, 'docs_assets.c'), c);
