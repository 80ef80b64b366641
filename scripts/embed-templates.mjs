#!/usr/bin/env node
// Generates the sources that build the templates into the binary:
//
//   OUT/templates.S   the bytes of every file under templates/, each followed
//                     by a NUL (the engine and jansson read them as text)
//   OUT/templates.c   the table of src/core/templates.h: name, pointer, length
//
// Usage (from the repository root, as the Makefile runs it):
//   node scripts/embed-templates.mjs templates build/gen
//
// A file's name in the table is its path under templates/, e.g.
// "pages/reset.html", "i18n/ru.json". Files whose name starts with a dot
// are skipped (editor droppings); every other file is embedded.
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';

import { incbinAsm, incbinTable } from './incbin.mjs';

const [src, out] = process.argv.slice(2);
if (!src || !out) {
  console.error('usage: node scripts/embed-templates.mjs TEMPLATES_DIR OUTDIR');
  process.exit(2);
}

function fail(msg) {
  console.error(`embed-templates: ${msg}`);
  process.exit(1);
}

function walk(dir) {
  const found = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.name.startsWith('.'))
      continue;
    const p = join(dir, e.name);
    if (e.isDirectory())
      found.push(...walk(p));
    else if (e.isFile())
      found.push(p);
    else
      fail(`${p}: neither a file nor a directory`);
  }
  return found;
}

const paths = walk(src).sort();
if (paths.length === 0)
  fail(`${src}: no templates`);
mkdirSync(out, { recursive: true });

const BY = 'scripts/embed-templates.mjs';
const files = [], syms = [], rows = [];
paths.forEach((file, i) => {
  const name = relative(src, file).split('\\').join('/');
  if (!/^[A-Za-z0-9_.\/-]+$/.test(name))
    fail(`unusable file name ${name}`);
  const sym = `gh_template_${i}`;
  const size = statSync(file).size;
  // Read once here so that a file that is not text fails the build.
  const text = readFileSync(file);
  if (text.includes(0))
    fail(`${name}: holds a NUL byte`);
  // Each followed by a NUL: the engine and jansson read them as text.
  files.push({ sym, rel: relative(process.cwd(), file), size, nul: true });
  syms.push(sym);
  rows.push(`    {${JSON.stringify(name)}, ${sym}, ${size}},`);
});
const asm = incbinAsm(BY, 'the templates', files, fail);
const c = incbinTable(BY, 'the templates', {
  header: 'core/templates.h', type: 'templates_file', array: 'templates_files',
  count: 'templates_nfiles', elem: 'char', syms, rows,
});
writeFileSync(join(out, 'templates.S'), asm);
writeFileSync(join(out, 'templates.c'), c);
