'use strict';
/*
 * Where the compilers' npm packages are, which versions are installed, and the command that
 * installs them — all without loading them (rpc.hello reports the versions, and must stay cheap).
 *
 * The host directory is node/ (or rpcbridge/node/ in the wheel): its package.json pins esbuild
 * exactly (a dependency) and typescript as `~5.9.3` (an optionalDependency: TypeScript 7 has no
 * transpileModule). The module the TypeScript engine loads comes from the environment variable
 * RPCBRIDGE_TYPESCRIPT_MODULE (default "typescript"): a test seam, read at each use.
 *
 * Installed from a wheel, the host directory holds wheel.json (written by hatch_build.py:
 * {platform, packages}); a platform wheel carries esbuild and TypeScript in node_modules/
 * beside it. Nothing is ever installed into that directory at run time (it is inside
 * site-packages): the commands below then install the engines into a folder of the user's
 * and point Node at it with NODE_PATH, which require() searches after node_modules/.
 */

const fs = require('node:fs');
const path = require('node:path');

/** node/: the directory holding rpc-host.js and package.json. */
const HOST_DIR = path.resolve(__dirname, '..', '..');

const manifest = require('../../package.json');

/** Where the install commands put the engines when the host runs from a wheel. */
const USER_PACKAGES_DIR = '~/.rpcbridge/npm';

const ESBUILD_VERSION = (manifest.dependencies && manifest.dependencies.esbuild) || 'latest';

const TYPESCRIPT_RANGE = (manifest.optionalDependencies && manifest.optionalDependencies.typescript) || '~5.9.3';

/** The module specifier the TypeScript engine loads. */
function typescriptSpecifier() {
  return process.env.RPCBRIDGE_TYPESCRIPT_MODULE || 'typescript';
}

/** A word a POSIX shell reads back unchanged. */
function shellWord(text) {
  return /^[\w@%+=:,./~-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}

/**
 * What the wheel this host was installed from carries (its wheel.json), or null when the host
 * runs from a source checkout. Read at each use (only error paths use it).
 * @returns {{platform: string|null, packages: Object<string, string>}|null}
 */
function wheelInfo() {
  try {
    return JSON.parse(fs.readFileSync(path.join(HOST_DIR, 'wheel.json'), 'utf8'));
  } catch {
    return null;
  }
}

/** The command that installs `spec` outside site-packages, where the host's require() finds it. */
function userInstallCommand(spec) {
  return `npm install --prefix ${USER_PACKAGES_DIR} ${spec} && export NODE_PATH=${USER_PACKAGES_DIR}/node_modules`;
}

/** The command that installs the TypeScript engine: next to the host in a checkout. */
function typescriptInstallCommand() {
  const spec = `typescript@${TYPESCRIPT_RANGE}`;
  return wheelInfo() === null ? `npm install --prefix ${shellWord(HOST_DIR)} ${spec}` : userInstallCommand(spec);
}

/** The command that installs the host's dependencies (esbuild among them). */
function hostInstallCommand() {
  return wheelInfo() === null ? `npm ci --omit=dev --prefix ${shellWord(HOST_DIR)}` : userInstallCommand(`esbuild@${ESBUILD_VERSION}`);
}

/**
 * Why the npm package `name` is missing, as a sentence without its final period: from a
 * pure-Python wheel, say that the platform wheel carries it.
 */
function missingPackageProblem(name) {
  const info = wheelInfo();
  const problem = `the npm package "${name}" is not installed`;
  if (info === null || info.platform) return problem;
  return `${problem} (this rpcbridge is the pure-Python wheel, py3-none-any, which carries no compile engines: the wheel for your platform does, built by "python hatch_build.py" in rpcbridge's source)`;
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
  missingPackageProblem,
  wheelInfo,
  installedVersion,
  engineVersions,
};
