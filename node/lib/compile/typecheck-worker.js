'use strict';
/*
 * The body of the type checker's worker thread (started by typecheck.js through
 * typescript-thread.js): TypeScript programs kept alive per project, checked again
 * incrementally after files change.
 *
 * Goals: a warm re-check after a one-file edit costs a small part of a cold check (and of a
 * `tsc --noEmit`, which loads TypeScript and parses the default libraries every time). Plan,
 * per project (a tsconfig.json, or the list of files of an inferred project):
 *   - SourceFiles are cached by path with a version (the caller's text: a counter; a file on
 *     disk: its mtime and size, stat'ed at each check), and the same SourceFile OBJECT is
 *     handed back while the version holds, which is what lets TypeScript reuse the old
 *     program's structure; the default libraries are cached once for every project;
 *   - the program is a SemanticDiagnosticsBuilderProgram built on the previous one (what
 *     `tsc --watch` uses): semantic diagnostics are remembered per file and only the files
 *     affected by a change (the changed file, and those whose imports' shapes changed) are
 *     checked again;
 *   - the tsconfig.json is parsed again at each check (cheap), so added or removed files and
 *     edited settings are seen.
 *
 *   → {type: "init", ok: true, version} | {type: "init", ok: false, reason, message, version}
 *   ← {id, project: {tsconfig: string|null, files: [abs paths]}, report: [abs paths]|null,
 *      changes: [{path, text?}], cwd}
 *   → {type: "result", id, project, diagnostics: [...], files, elapsedMs}
 *   → {type: "crash", id, name, message, stack}
 *
 * Diagnostics have the shape of compile's (diagnostics.js): line 1-based, columns 1-based in
 * code points of lineText, code "TS2322"; file relative to the host's working directory when
 * it lies below it.
 */

const fs = require('node:fs');
const path = require('node:path');
const { parentPort, workerData } = require('node:worker_threads');
const { LineIndex } = require('./diagnostics');

function loadTypeScript() {
  let loaded;
  try {
    loaded = require(workerData.modulePath);
  } catch (err) {
    parentPort.postMessage({ type: 'init', ok: false, reason: 'load', message: String((err && err.message) || err) });
    return null;
  }
  if (loaded === null || typeof loaded !== 'object' || typeof loaded.createSemanticDiagnosticsBuilderProgram !== 'function') {
    const version = loaded && typeof loaded.version === 'string' ? loaded.version : null;
    parentPort.postMessage({ type: 'init', ok: false, reason: 'no-transpile', version });
    return null;
  }
  return loaded;
}

const ts = loadTypeScript();

/** The options of a project without a tsconfig.json. */
const INFERRED_OPTIONS = Object.freeze({
  strict: true,
  noEmit: true,
  target: 'es2022',
  module: 'esnext',
  moduleResolution: 'bundler',
  jsx: 'react-jsx',
  skipLibCheck: true,
  allowJs: true,
});

/** Default-library SourceFiles, shared by every project: they never change. */
const libraries = new Map();
/** Text given by the caller instead of the file on disk: path → {text, version}. */
const overlays = new Map();
let overlayVersion = 0;

class Project {
  constructor(key) {
    this.key = key;
    /** path → {version, sourceFile, languageVersion} */
    this.files = new Map();
    this.builder = undefined;
  }

  /** The current version of a file: its overlay's, or its mtime and size on disk (null: gone). */
  static versionOf(file) {
    const overlay = overlays.get(file);
    if (overlay !== undefined) return `o${overlay.version}`;
    try {
      const stat = fs.statSync(file);
      return `d${stat.mtimeMs}:${stat.size}`;
    } catch {
      return null;
    }
  }

  compilerHost(options) {
    const base = ts.createCompilerHost(options, true);
    const host = Object.create(base);
    const libDir = path.dirname(ts.getDefaultLibFilePath(options));
    host.fileExists = (file) => overlays.has(path.resolve(file)) || base.fileExists(file);
    host.readFile = (file) => {
      const overlay = overlays.get(path.resolve(file));
      return overlay !== undefined ? overlay.text : base.readFile(file);
    };
    host.getSourceFile = (fileName, languageVersion, onError, shouldCreate) => {
      const file = path.resolve(fileName);
      const key = `${file}\0${JSON.stringify(languageVersion)}`;
      if (path.dirname(file) === libDir) {
        if (!libraries.has(key)) {
          const library = base.getSourceFile(fileName, languageVersion, onError, shouldCreate);
          if (library !== undefined) library.version = 'lib';
          libraries.set(key, library);
        }
        return libraries.get(key);
      }
      const cached = this.files.get(key); // update() dropped the files that changed
      if (cached !== undefined) return cached.sourceFile;
      const version = Project.versionOf(file);
      const overlay = overlays.get(file);
      const sourceFile =
        overlay !== undefined ? ts.createSourceFile(fileName, overlay.text, languageVersion, true) : base.getSourceFile(fileName, languageVersion, onError, shouldCreate);
      if (sourceFile !== undefined) sourceFile.version = version;
      this.files.set(key, { version, sourceFile });
      return sourceFile;
    };
    return host;
  }

  /** Build the program again on the last one, after dropping the files that changed. */
  update(rootNames, options, configErrors) {
    for (const [key, entry] of this.files) {
      if (entry.version !== Project.versionOf(key.slice(0, key.indexOf('\0')))) this.files.delete(key);
    }
    const host = this.compilerHost(options);
    if (this.builder === undefined) {
      // A builder made without an old one takes each file's version as its "signature" (the
      // shape other files see); the first edit would then find every signature changed and
      // check again every file that imports the edited one, transitively (~all of them).
      // Built once more on itself, before any check, it computes the real signatures (from
      // each file's declarations) during the cold check instead.
      this.builder = ts.createSemanticDiagnosticsBuilderProgram(rootNames, options, host, undefined, configErrors);
    }
    this.builder = ts.createSemanticDiagnosticsBuilderProgram(rootNames, options, host, this.builder, configErrors);
    return this.builder;
  }
}

const projects = new Map();
const MAX_PROJECTS = 8;

function projectFor(key) {
  let project = projects.get(key);
  if (project === undefined) {
    if (projects.size >= MAX_PROJECTS) projects.delete(projects.keys().next().value);
    project = new Project(key);
  } else {
    projects.delete(key); // most recently used last
  }
  projects.set(key, project);
  return project;
}

/** rootNames, options and the config's own diagnostics for a job's project. */
function configure(job) {
  const extra = job.project.files;
  if (job.project.tsconfig === null) {
    const converted = ts.convertCompilerOptionsFromJson(INFERRED_OPTIONS, job.cwd);
    return { rootNames: extra, options: converted.options, errors: converted.errors };
  }
  const errors = [];
  const parseHost = { ...ts.sys, onUnRecoverableConfigFileDiagnostic: (d) => errors.push(d) };
  const parsed = ts.getParsedCommandLineOfConfigFile(job.project.tsconfig, { noEmit: true }, parseHost);
  if (parsed === undefined) return { rootNames: extra, options: ts.convertCompilerOptionsFromJson(INFERRED_OPTIONS, job.cwd).options, errors };
  const rootNames = [...new Set([...parsed.fileNames.map((f) => path.resolve(f)), ...extra])];
  return { rootNames, options: parsed.options, errors: [...errors, ...parsed.errors] };
}

function check(job) {
  const started = performance.now();
  for (const change of job.changes) {
    if (typeof change.text === 'string') overlays.set(change.path, { text: change.text, version: ++overlayVersion });
    else overlays.delete(change.path);
  }
  const key = job.project.tsconfig ?? `inferred:${[...job.project.files].sort().join('\0')}`;
  const project = projectFor(key);
  const { rootNames, options, errors } = configure(job);
  const builder = project.update(rootNames, options, errors);
  const program = builder.getProgram();

  // Check the files the change affects (the builder's own walk, which also forgets their old
  // diagnostics); every other file's diagnostics come from its cache below.
  while (builder.getSemanticDiagnosticsOfNextAffectedFile() !== undefined);
  const wanted = job.report === null ? null : new Set(job.report);
  const ownFiles = program
    .getSourceFiles()
    .filter((sf) => !program.isSourceFileDefaultLibrary(sf) && !program.isSourceFileFromExternalLibrary(sf))
    .filter((sf) => wanted === null || wanted.has(path.resolve(sf.fileName)));
  const raw = [...builder.getConfigFileParsingDiagnostics(), ...builder.getOptionsDiagnostics(), ...builder.getGlobalDiagnostics()];
  for (const sf of ownFiles) {
    raw.push(...builder.getSyntacticDiagnostics(sf));
    raw.push(...builder.getSemanticDiagnostics(sf));
  }
  const indexes = new Map();
  const diagnostics = raw.map((d) => toDiagnostic(d, indexes, job.cwd));
  return {
    type: 'result',
    id: job.id,
    project: job.project.tsconfig,
    diagnostics,
    files: ownFiles.length,
    elapsedMs: performance.now() - started,
  };
}

function shownPath(file, cwd) {
  const abs = path.resolve(file);
  const relative = path.relative(cwd, abs);
  return relative !== '' && !relative.startsWith('..') && !path.isAbsolute(relative) ? relative : abs;
}

function locate(file, start, length, indexes, cwd) {
  if (file === undefined || typeof start !== 'number') return { file: file ? shownPath(file.fileName, cwd) : null, line: null, column: null, endLine: null, endColumn: null, lineText: null };
  let index = indexes.get(file);
  if (index === undefined) {
    index = new LineIndex(file.text);
    indexes.set(file, index);
  }
  const from = index.locate(start);
  const to = length > 0 ? index.locate(start + length) : from;
  return { file: shownPath(file.fileName, cwd), line: from.line, column: from.column, endLine: to.line, endColumn: to.column, lineText: from.lineText };
}

function toDiagnostic(d, indexes, cwd) {
  const at = locate(d.file, d.start, d.length || 0, indexes, cwd);
  return {
    severity: d.category === ts.DiagnosticCategory.Error ? 'error' : 'warning',
    message: ts.flattenDiagnosticMessageText(d.messageText, '\n'),
    ...at,
    code: `TS${d.code}`,
    notes: (d.relatedInformation || []).map((r) => {
      const where = locate(r.file, r.start, r.length || 0, indexes, cwd);
      return { message: ts.flattenDiagnosticMessageText(r.messageText, '\n'), file: where.file, line: where.line, column: where.column, lineText: where.lineText };
    }),
  };
}

function serve(job) {
  try {
    parentPort.postMessage(check(job));
  } catch (err) {
    parentPort.postMessage({
      type: 'crash',
      id: job.id,
      name: String((err && err.name) || 'Error'),
      message: String((err && err.message) || err),
      stack: err && err.stack ? String(err.stack) : null,
    });
  }
}

if (ts !== null) {
  parentPort.on('message', serve);
  parentPort.postMessage({ type: 'init', ok: true, version: String(ts.version) });
}
