'use strict';
/*
 * Where the compilers' npm packages are, which versions are installed, and the command that
 * installs them — all without loading them (rpc.hello reports the versions, and must stay cheap).
 *
 * The host directory is node/ (or rpcbridge/node/ in the wheel): its package.json pins esbuild
 * exactly (a dependency) and typescript as `~5.9.3` (an optionalDependency: TypeScript 7 has no
 * transpileModule). The module the TypeScript engine loads comes from the environment variable
 * RPCBRIDGE_TYPESCRIPT_MODULE (default "typescript"): a test seam, read at each use.
 */

const fs = require('node:fs');
const path = require('node:path');

/** node/: the directory holding rpc-host.js and package.json. */
const HOST_DIR = path.resolve(__dirname, '..', '..');

const manifest = require('../../package.json');

const TYPESCRIPT_RANGE = (manifest.optionalDependencies && manifest.optionalDependencies.typescript) || '~5.9.3';

/** The module specifier the TypeScript engine loads. */
function typescriptSpecifier() {
  return process.env.RPCBRIDGE_TYPESCRIPT_MODULE || 'typescript';
}

/** A word a POSIX shell reads back unchanged. */
function shellWord(text) {
  return /^[\w@%+=:,./~-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}

/** The command that installs the TypeScript engine next to the host. */
function typescriptInstallCommand() {
  return `npm install --prefix ${shellWord(HOST_DIR)} typescript@${TYPESCRIPT_RANGE}`;
}

/** The command that installs the host's dependencies (esbuild among them). */
function hostInstallCommand() {
  return `npm ci --omit=dev --prefix ${shellWord(HOST_DIR)}`;
}

/**
 * The version of the package `name` as Node would find it from this directory, read from its
 * package.json (the package is not loaded). null if it is not installed or `name` is a path.
 * @param {string} name a bare package name
 * @returns {string|null}
 */
function installedVersion(name) {
  if (name.startsWith('.') || path.isAbsolute(name)) return null;
  const dirs = require.resolve.paths(name) || [];
  for (const dir of dirs) {
    const file = path.join(dir, name, 'package.json');
    let text;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    try {
      const version = JSON.parse(text).version;
      return typeof version === 'string' ? version : null;
    } catch {
      return null;
    }
  }
  return null;
}

/**
 * The engines rpc.hello reports: installed versions, not loaded.
 * @returns {{esbuild: string|null, typescript: string|null}}
 */
function engineVersions() {
  return { esbuild: installedVersion('esbuild'), typescript: installedVersion(typescriptSpecifier()) };
}

module.exports = {
  HOST_DIR,
  TYPESCRIPT_RANGE,
  typescriptSpecifier,
  typescriptInstallCommand,
  hostInstallCommand,
  installedVersion,
  engineVersions,
};
