// Debian's Apache with examples/apache/gatehouse-oidc.conf, run in the
// foreground (-X: one process) on a loopback port, as tests/browser/
// apache.test.mjs needs it. The site file is the shipped one with these
// replacements and nothing else (each must be found, so a changed file
// fails loudly): the virtual host's address, the two hosts, the client
// secret, the passphrase and the document root. A main configuration of
// our own loads only the modules it needs, with the pid file, logs and
// mutexes in a scratch directory, as Debian's apache2.conf includes
// sites-enabled/*.conf.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { freePort, repo } from './harness.mjs';

export const SITE = join(repo, 'examples/apache/gatehouse-oidc.conf');
const APACHE = process.env.APACHE_BIN ?? '/usr/sbin/apache2';
const MODULES = '/usr/lib/apache2/modules';

export function renderSite({ port, app, issuer, secret, docroot }) {
  let text = readFileSync(SITE, 'utf8');
  for (const [old, by] of [
    ['<VirtualHost *:443>', `<VirtualHost 127.0.0.1:${port}>`],
    ['ServerName app.example.com', 'ServerName 127.0.0.1'],
    ['https://auth.example.com', issuer],
    ['https://app.example.com', app],
    ['CLIENT-SECRET-PRINTED-BY-CLIENTS-ADD', secret],
    ['LONG-RANDOM-PASSPHRASE', randomBytes(24).toString('base64url')],
    ['/var/www/app', docroot],
  ]) {
    if (!text.includes(old)) throw new Error(`${SITE}: no ${old}`);
    text = text.replaceAll(old, by);
  }
  return text;
}

function mainConf(dir, port, site) {
  const mods = ['mpm_prefork', 'authn_core', 'authz_core', 'authz_user', 'mime', 'dir', 'include',
    'auth_openidc'];
  return [
    `ServerRoot ${dir}`,
    'ServerName 127.0.0.1',
    `PidFile ${dir}/apache.pid`,
    `DefaultRuntimeDir ${dir}`,
    `Mutex file:${dir} default`,
    `ErrorLog ${dir}/error.log`,
    'LogLevel warn auth_openidc:info',
    `Listen 127.0.0.1:${port}`,
    ...mods.map((m) => `LoadModule ${m}_module ${MODULES}/mod_${m}.so`),
    'User www-data',
    'Group www-data',
    'TypesConfig /etc/mime.types',
    '<Directory />',
    '    AllowOverride None',
    '</Directory>',
    `Include ${site}`,
    '',
  ].join('\n');
}

// The protected page: the user Apache knows after the sign-in, by SSI.
const PAGE = '<!doctype html><title>private</title>\n'
  + '<p id="user"><!--#echo var="REMOTE_USER" --></p>\n'
  + '<p id="email"><!--#echo var="OIDC_CLAIM_email" --></p>\n'
  + '<p><a id="logout" href="/private/callback?logout=APP%2F">Sign out</a></p>\n';
const HOME = '<!doctype html><title>home</title><p id="home">public home page</p>\n';

// Starts Apache (it serves its own files) with the site for the client
// "app" of issuer, its files in dir (made readable by www-data, so a
// directory of its own); resolves to { child, base, dir } once it answers.
export async function startApache(dir, issuer, secret, port) {
  const base = `http://127.0.0.1:${port}`;
  const docroot = join(dir, 'www');
  mkdirSync(join(docroot, 'private'), { recursive: true });
  writeFileSync(join(docroot, 'index.html'), HOME);
  writeFileSync(join(docroot, 'private/index.shtml'),
    PAGE.replace('APP%2F', encodeURIComponent(`${base}/`)));
  // The worker runs as www-data: it must read the files and the scratch directory.
  for (const d of [dir, docroot, join(docroot, 'private')]) chmodSync(d, 0o755);
  const site = join(dir, 'site.conf');
  writeFileSync(site, renderSite({ port, app: base, issuer, secret, docroot }));
  const conf = join(dir, 'httpd.conf');
  writeFileSync(conf, mainConf(dir, port, site));
  const child = spawn(APACHE, ['-X', '-f', conf], { stdio: ['ignore', 'inherit', 'inherit'] });
  const end = Date.now() + 15000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`apache2 exited with ${child.exitCode}: ${errorLog(dir)}`);
    try {
      if ((await fetch(`${base}/`)).status === 200) break;
    } catch {}
    if (Date.now() > end) {
      await stopApache(child);
      throw new Error(`apache2 did not answer: ${errorLog(dir)}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { child, base, dir };
}

export function errorLog(dir) {
  try {
    return readFileSync(join(dir, 'error.log'), 'utf8').slice(-4000);
  } catch {
    return '(no error.log)';
  }
}

export async function stopApache(child) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const done = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await done;
}

export { freePort };
