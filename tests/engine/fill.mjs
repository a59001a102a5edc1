#!/usr/bin/env node
// Load an XForm in ODK Web Forms' engine (@getodk/xforms-engine), fill it with answers,
// and report every node's value / relevance / required / validity as JSON on stdout.
//
//   node fill.mjs FORM.xml [--answers answers.json] [--media DIR] [--attach NAME=PATH]...
//                 [--missing-blank] [--require-valid] [--no-probe] [--submission DIR] [--pretty]
//   --submission DIR: also write the submission the engine would send (xml_submission_file + files)
//
// Exit codes: 0 loaded and every answer applied (see "valid" in the report);
//             1 the form failed to load (unsupported XPath function, bad attachment, ...),
//               or the engine threw while answers were being filled in;
//             2 usage error (missing form/answers file), or an answer could not be applied (unknown path, value not
//               among the available choices, question not relevant or read-only);
//             3 --require-valid was given and the filled form has violations.
// Everything the engine logs goes to stderr (and into "engine_log"); stdout is only JSON.

import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';

const EXIT = { OK: 0, LOAD: 1, ANSWERS: 2, INVALID: 3 };

// ---------------------------------------------------------------- stdout hygiene
const engineLog = [];
for (const level of ['log', 'info', 'warn', 'error', 'debug']) {
  console[level] = (...args) => {
    const text = args.map((a) => (a instanceof Error ? a.stack ?? a.message : typeof a === 'string' ? a : safeJSON(a))).join(' ');
    engineLog.push({ level, text: text.slice(0, 2000) });
    process.stderr.write(`[engine ${level}] ${text}\n`);
  };
}
function safeJSON(v) {
  try { return JSON.stringify(v); } catch { return String(v); }
}
const out = (obj, pretty) => process.stdout.write(JSON.stringify(obj, null, pretty ? 2 : 0) + '\n');

// ---------------------------------------------------------------- arguments
function parseArgs(argv) {
  const opts = { form: null, answers: null, media: [], attach: new Map(), missingBlank: false, requireValid: false, pretty: false, noProbe: false, submission: null, batch: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      if (i + 1 >= argv.length) throw new UsageError(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--answers') opts.answers = next();
    else if (a === '--media') opts.media.push(next());
    else if (a === '--attach') {
      const v = next();
      const eq = v.indexOf('=');
      if (eq < 1) throw new UsageError(`--attach wants NAME=PATH, got ${v}`);
      opts.attach.set(v.slice(0, eq), v.slice(eq + 1));
    } else if (a === '--missing-blank') opts.missingBlank = true;
    else if (a === '--require-valid') opts.requireValid = true;
    else if (a === '--pretty') opts.pretty = true;
    else if (a === '--no-probe') opts.noProbe = true;
    else if (a === '--submission') opts.submission = next();
    else if (a === '--batch') opts.batch = next();
    else if (a === '-h' || a === '--help') throw new UsageError('');
    else if (a.startsWith('--')) throw new UsageError(`unknown option ${a}`);
    else if (!opts.form) opts.form = a;
    else throw new UsageError(`unexpected argument ${a}`);
  }
  if (!opts.form && !opts.batch) throw new UsageError('missing FORM.xml');
  return opts;
}
class UsageError extends Error {}
class AnswerError extends Error {}

// ---------------------------------------------------------------- DOM environment
// The engine parses XML with the DOM (DOMParser, document, Node...) like in a browser; it is
// tested upstream in Node under jsdom. Its bundled web-tree-sitter (emscripten) takes its Node
// code path and touches the CommonJS globals `__dirname` and `module`, which do not exist in an
// ES module: give it harmless ones (the WASM itself is inlined as a data: URL, nothing is read).
async function installDom() {
  const { JSDOM } = await import('jsdom');
  const dom = new JSDOM('<!DOCTYPE html><html><head></head><body></body></html>', { url: 'http://localhost/' });
  for (const key of Object.getOwnPropertyNames(dom.window)) {
    if (key in globalThis) continue; // keep Node's own fetch, Blob, File, URL, Response, crypto...
    try {
      Object.defineProperty(globalThis, key, { configurable: true, writable: true, value: dom.window[key] });
    } catch { /* some window props are not copyable; the engine does not need them */ }
  }
  globalThis.__dirname ??= '/';
  globalThis.module ??= { exports: {} };
}

// ---------------------------------------------------------------- attachments
const CONTENT_TYPES = {
  '.csv': 'text/csv', '.xml': 'text/xml', '.geojson': 'application/geo+json', '.json': 'application/json',
  '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.png': 'image/png', '.mp3': 'audio/mpeg', '.mp4': 'video/mp4',
};
const contentType = (p) => CONTENT_TYPES[path.extname(p).toLowerCase()] ?? 'application/octet-stream';

async function exists(p) {
  try { return (await stat(p)).isFile(); } catch { return false; }
}

function makeAttachmentFetcher(opts, fetched) {
  // jr://file-csv/areas.csv -> "areas.csv"; jr://images/a/b.png -> "a/b.png" (also tried: "b.png")
  return async (url) => {
    const href = String(url.href ?? url);
    const m = /^jr:\/\/[^/]+\/(.+)$/.exec(href);
    const rel = m ? decodeURIComponent(m[1]) : href;
    const candidates = [];
    for (const key of [href, rel, path.basename(rel)]) if (opts.attach.has(key)) candidates.push(opts.attach.get(key));
    for (const dir of opts.media) candidates.push(path.join(dir, rel), path.join(dir, path.basename(rel)));
    for (const file of candidates) {
      if (await exists(file)) {
        fetched.push({ url: href, file });
        const body = await readFile(file);
        return new Response(body, { status: 200, headers: { 'content-type': contentType(file) } });
      }
    }
    fetched.push({ url: href, file: null });
    // 404 = "missing": fails the load unless --missing-blank (engine then treats it as blank)
    return new Response('', { status: 404, headers: { 'content-type': 'text/plain' } });
  };
}

// ---------------------------------------------------------------- tree helpers
const nodeName = (node) => node.definition?.qualifiedName?.localName ?? node.currentState.reference.split('/').pop().replace(/\[\d+\]$/, '');
const children = (node) => node.currentState.children ?? [];
const isRepeatRange = (node) => node.nodeType.startsWith('repeat-range');

function parsePath(p) {
  if (typeof p !== 'string' || !p.startsWith('/')) throw new AnswerError(`path must be absolute, like /data/q: ${p}`);
  return p.split('/').slice(1).map((seg) => {
    const m = /^([^[\]]+)(?:\[(\d+)\])?$/.exec(seg);
    if (!m) throw new AnswerError(`bad path step "${seg}" in ${p}`);
    return { name: m[1], index: m[2] ? Number(m[2]) : null };
  });
}

// Resolve an instance path to a node; repeat steps without [n] mean [1]; with grow=true,
// missing repeat instances are added (as a user pressing "add group" would).
function resolve(root, p, { grow }) {
  const steps = parsePath(p);
  if (steps[0].name !== nodeName(root)) throw new AnswerError(`path ${p} does not start with /${nodeName(root)}`);
  let node = root;
  for (let i = 1; i < steps.length; i++) {
    const { name, index } = steps[i];
    const child = children(node).find((c) => nodeName(c) === name);
    if (!child) throw new AnswerError(`no node "${name}" under ${node.currentState.reference} (path ${p})`);
    if (isRepeatRange(child)) {
      const last = i === steps.length - 1;
      if (last && index == null) { node = child; continue; } // the repeat range itself
      const want = index ?? 1;
      let have = children(child).length;
      if (have < want) {
        if (!grow) throw new AnswerError(`${child.currentState.reference} has ${have} instance(s), path ${p} needs ${want}`);
        if (child.nodeType !== 'repeat-range:uncontrolled') throw new AnswerError(`${child.currentState.reference} has a jr:count; it has ${have} instance(s), cannot add more for ${p}`);
        child.addInstances(have - 1, want - have);
        have = children(child).length;
      }
      node = children(child)[want - 1];
    } else {
      if (index != null && index !== 1) throw new AnswerError(`"${name}" is not a repeat; [${index}] in ${p}`);
      node = child;
    }
  }
  return node;
}

async function toFile(value, opts) {
  const name = typeof value === 'string' ? value : value.name;
  let bytes = Buffer.from(`placeholder for ${name}`);
  for (const dir of opts.media) {
    const p = path.join(dir, name);
    if (await exists(p)) { bytes = await readFile(p); break; }
  }
  return new File([bytes], name, { type: contentType(name) });
}

const sameList = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);

async function applyAnswer(root, p, value, opts) {
  const node = resolve(root, p, { grow: true });
  const ref = node.currentState.reference;
  if (isRepeatRange(node)) {
    if (!Number.isInteger(value) || value < 0) throw new AnswerError(`${p} is a repeat: give the number of instances, got ${safeJSON(value)}`);
    if (node.nodeType !== 'repeat-range:uncontrolled') throw new AnswerError(`${p} is a repeat with jr:count; its size is not set by answers`);
    const have = children(node).length;
    if (value > have) node.addInstances(have - 1, value - have);
    else if (value < have) node.removeInstances(value, have - value);
    return;
  }
  if (node.currentState.children != null) throw new AnswerError(`${ref} is a ${node.nodeType}, not a question`);
  if (!node.currentState.relevant) throw new AnswerError(`${ref} is not relevant now: a user could not answer it`);
  if (node.currentState.readonly) throw new AnswerError(`${ref} is read-only: a user could not answer it`);
  switch (node.nodeType) {
    case 'select': {
      const values = value == null ? [] : Array.isArray(value) ? value.map(String) : String(value).split(/\s+/).filter(Boolean);
      if (node.selectType === 'select1' && values.length > 1) throw new AnswerError(`${ref} is a select_one; got ${values.length} values`);
      node.selectValues(values);
      const got = node.currentState.value;
      if (!sameList([...got].sort(), [...values].sort())) {
        const avail = node.currentState.valueOptions.map((o) => o.value);
        throw new AnswerError(`${ref}: ${safeJSON(values.filter((v) => !got.includes(v)))} not among the available choices ${safeJSON(avail.slice(0, 50))}${avail.length > 50 ? '…' : ''}`);
      }
      return;
    }
    case 'rank': {
      const values = Array.isArray(value) ? value.map(String) : String(value).split(/\s+/).filter(Boolean);
      node.setValues(values);
      return;
    }
    case 'upload':
      node.setValue(value == null ? null : await toFile(value, opts));
      return;
    case 'trigger':
      node.setValue(value === true || value === 'OK' || value === 'true');
      return;
    case 'input':
    case 'range':
      node.setValue(value == null ? '' : typeof value === 'object' ? safeJSON(value) : String(value));
      return;
    default:
      throw new AnswerError(`${ref} is a ${node.nodeType} node: a user does not answer it`);
  }
}

// ---------------------------------------------------------------- report
function text(range) {
  try { return range?.asString ?? null; } catch { return null; }
}
function expr(e) {
  return e && !e.constantExpression ? e.expression ?? null : e?.constantExpression ?? null;
}

function describeLeaf(node) {
  const s = node.currentState;
  const bind = node.definition?.bind;
  const r = {
    path: s.reference,
    type: node.nodeType,
    value_type: node.valueType ?? null,
    value: s.instanceValue ?? null,
    relevant: s.relevant,
    required: s.required,
    readonly: s.readonly,
    label: text(s.label),
  };
  if (bind?.calculate) r.calculate = bind.calculate.expression;
  const vs = node.validationState;
  if (vs && 'constraint' in vs) {
    const v = vs.violation;
    r.valid = v == null;
    r.violation = v ? { condition: v.condition, message: text(v.message) } : null;
    r.constraint_ok = vs.constraint.valid;
    r.required_ok = vs.required.valid;
  }
  if (node.nodeType === 'select' || node.nodeType === 'rank') {
    r.select_type = node.selectType ?? node.nodeType;
    r.options = s.valueOptions.map((o) => ({ value: o.value, label: text(o.label) }));
  }
  if (node.nodeType === 'upload') r.file = s.value ? { name: s.value.name, size: s.value.size } : null;
  return r;
}

function attributesOf(node) {
  let attrs = [];
  try { attrs = node.currentState.attributes ?? []; } catch { return []; }
  return attrs.map((a) => ({ path: a.currentState.reference, value: a.currentState.instanceValue ?? a.currentState.value ?? null }));
}

function collect(root) {
  const nodes = [];
  const repeats = [];
  const attributes = []; // e.g. entities: /data/meta/entity/@id, @create, @dataset
  const walk = (node) => {
    attributes.push(...attributesOf(node));
    if (isRepeatRange(node)) {
      repeats.push({ path: node.currentState.reference, count: children(node).length, controlled: node.nodeType === 'repeat-range:controlled', relevant: node.currentState.relevant });
    } else if (node.currentState.children == null) {
      nodes.push(describeLeaf(node));
      return;
    }
    for (const c of children(node)) walk(c);
  };
  walk(root);
  return { nodes, repeats, attributes };
}

// ---------------------------------------------------------------- one job
function loadAnswers(raw) {
  const a = raw && typeof raw === 'object' && !Array.isArray(raw) && raw.answers ? raw.answers : raw;
  // object {path: value} (key order = fill order) or list [[path, value], ...] (allows repeats of a path)
  return Array.isArray(a) ? a : Object.entries(a ?? {});
}

let engine = null;
async function getEngine(timing) {
  if (engine) return engine;
  const t = performance.now();
  await installDom();
  engine = await import('@getodk/xforms-engine');
  timing.import_ms = round(performance.now() - t); // jsdom + engine, first job only
  return engine;
}

// Returns { code, report }; never throws for form problems.
async function runJob(opts) {
  engineLog.length = 0;
  const timing = {};
  const eng = await getEngine(timing);
  const fetched = [];
  let answers;
  try {
    answers = opts.answers == null ? [] : loadAnswers(typeof opts.answers === 'string' ? JSON.parse(await readFile(opts.answers, 'utf8')) : opts.answers);
  } catch (e) {
    process.stderr.write(`BAD ANSWERS FILE: ${opts.answers}: ${e.message}\n`);
    return { code: EXIT.ANSWERS, report: { form: opts.form, loaded: false, stage: 'answers', error: e.message } };
  }
  let xml;
  try {
    xml = await readFile(opts.form, 'utf8');
  } catch (e) {
    process.stderr.write(`CANNOT READ FORM: ${opts.form}: ${e.message}\n`);
    return { code: EXIT.ANSWERS, report: { form: opts.form, loaded: false, stage: 'read', error: e.message } };
  }
  const fail = (stage, err) => {
    const message = err?.message ?? String(err);
    process.stderr.write(`FORM FAILED TO LOAD (${stage}): ${opts.form}: ${message}\n`);
    return { code: EXIT.LOAD, report: { form: opts.form, loaded: false, stage, error: message, error_type: err?.constructor?.name ?? null, attachments: fetched, engine_log: [...engineLog], timing } };
  };

  let t = performance.now();
  let form;
  try {
    // loadForm never rejects: failures come back as { status: 'failure', error }
    form = await eng.loadForm(xml, {
      fetchFormDefinition: async () => { throw new Error('form definition must be given inline'); },
      fetchFormAttachment: makeAttachmentFetcher(opts, fetched),
      missingResourceBehavior: opts.missingBlank ? eng.constants.MISSING_RESOURCE_BEHAVIOR.BLANK : eng.constants.MISSING_RESOURCE_BEHAVIOR.ERROR,
    });
  } catch (e) {
    return fail('loadForm', e);
  }
  if (form.status === 'failure') return fail('loadForm', form.error);
  timing.load_ms = round(performance.now() - t);

  t = performance.now();
  let instance;
  try {
    // first load: defaults, preloads (uid, start...), calculations, itemsets are computed here
    instance = form.createInstance({
      stateFactory: (o) => o, // non-reactive client: read currentState whenever needed
      preloadProperties: { deviceID: 'xfe-test-device', username: 'xfe', email: 'xfe@example.org', phoneNumber: '' },
    });
  } catch (e) {
    return fail('createInstance', e);
  }
  timing.create_ms = round(performance.now() - t);

  // Expressions are compiled when first evaluated, so an unsupported function inside a repeat
  // that starts with no instance only fails once a user adds one. Probe: in a throwaway
  // instance, add one instance to every empty repeat (recursively).
  if (!opts.noProbe) {
    t = performance.now();
    try {
      const probe = form.createInstance({ stateFactory: (o) => o });
      const grow = (node) => {
        if (children(node).length === 0 && node.nodeType === 'repeat-range:uncontrolled') node.addInstances();
        if (children(node).length === 0 && node.nodeType === 'repeat-range:controlled') {
          // jr:count="/data/k" (as pyxform writes repeat_count ${k}): answer k = 1 when possible
          const countExpr = node.definition?.count?.expression?.trim() ?? '';
          if (/^\/[\w./:-]+$/.test(countExpr)) {
            try {
              const countNode = resolve(probe.root, countExpr, { grow: false });
              if (countNode.nodeType === 'input' && countNode.currentState.relevant && !countNode.currentState.readonly) countNode.setValue('1');
            } catch (e) {
              if (!(e instanceof AnswerError)) throw e;
            }
          }
        }
        for (const c of children(node)) grow(c);
      };
      grow(probe.root);
      void probe.root.validationState.violations;
    } catch (e) {
      return fail('probe (empty repeat given one instance)', e);
    }
    timing.probe_ms = round(performance.now() - t);
  }

  const root = instance.root;
  t = performance.now();
  const errors = [];
  for (const [p, value] of answers) {
    try {
      await applyAnswer(root, p, value, opts);
    } catch (e) {
      if (e instanceof AnswerError) errors.push({ path: p, value, error: e.message });
      else return fail(`fill ${p}`, e); // the engine itself threw: a form problem, not a test-data one
    }
  }
  timing.fill_ms = round(performance.now() - t);

  t = performance.now();
  let report;
  try {
    const { nodes, repeats, attributes } = collect(root);
    const violations = root.validationState.violations.map((v) => ({ path: v.reference, condition: v.violation.condition, message: text(v.violation.message) }));
    const calculated = Object.fromEntries(nodes.filter((n) => n.calculate != null).map((n) => [n.path, n.value]));
    report = {
      form: opts.form,
      loaded: true,
      load_status: instance.formResult.status, // 'success' | 'warning'
      load_warnings: instance.formResult.warnings ?? null,
      valid: violations.length === 0 && errors.length === 0,
      violations,
      answer_errors: errors,
      calculated,
      repeats,
      nodes,
      attributes,
      attachments: fetched,
      engine_log: [...engineLog],
      timing,
    };
    if (opts.submission) {
      // what a client would POST: instance XML (non-relevant nodes pruned) and attached files
      const payload = await root.prepareInstancePayload({ payloadType: 'monolithic' });
      await mkdir(opts.submission, { recursive: true });
      const files = [];
      for (const [name, file] of payload.data[0].entries()) {
        await writeFile(path.join(opts.submission, name), Buffer.from(await file.arrayBuffer()));
        files.push(name);
      }
      report.submission = { status: payload.status, dir: opts.submission, files, meta: payload.submissionMeta };
    }
    timing.report_ms = round(performance.now() - t);
  } catch (e) {
    return fail('evaluate', e);
  }
  if (errors.length) {
    for (const e of errors) process.stderr.write(`ANSWER NOT APPLIED: ${opts.form}: ${e.path}: ${e.error}\n`);
    return { code: EXIT.ANSWERS, report };
  }
  if (opts.requireValid && !report.valid) {
    for (const v of report.violations) process.stderr.write(`INVALID: ${opts.form}: ${v.path}: ${v.condition}${v.message ? ': ' + v.message : ''}\n`);
    return { code: EXIT.INVALID, report };
  }
  return { code: EXIT.OK, report };
}

// ---------------------------------------------------------------- main
// --batch JOBS.json: a list of jobs run in one process (saves ~1 s of start-up per form):
//   [{"form": "a.xml", "answers": "a.json" | {...} | [[p, v], ...], "media": ["dir"],
//     "attach": {"areas.csv": "x.csv"}, "missing_blank": false, "require_valid": false,
//     "submission": "dir", "id": "anything"}, ...]
// prints one JSON array of {id, exit_code, report}; exits with the highest exit_code.
function jobOpts(job, base) {
  return {
    ...base,
    form: job.form,
    answers: job.answers ?? null,
    media: [].concat(job.media ?? []),
    attach: new Map(Object.entries(job.attach ?? {})),
    missingBlank: !!job.missing_blank,
    requireValid: !!job.require_valid,
    noProbe: !!job.no_probe,
    submission: job.submission ?? null,
  };
}

async function main() {
  let opts;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`${e.message ? e.message + '\n' : ''}usage: node fill.mjs FORM.xml [--answers answers.json] [--media DIR] [--attach NAME=PATH]... [--missing-blank] [--require-valid] [--no-probe] [--submission DIR] [--pretty]\n       node fill.mjs --batch JOBS.json [--pretty]\n`);
    return EXIT.ANSWERS;
  }
  if (opts.batch) {
    const jobs = JSON.parse(await readFile(opts.batch, 'utf8'));
    const results = [];
    let worst = EXIT.OK;
    for (const [i, job] of jobs.entries()) {
      const { code, report } = await runJob(jobOpts(job, opts));
      results.push({ id: job.id ?? i, exit_code: code, report });
      worst = Math.max(worst, code);
    }
    out(results, opts.pretty);
    return worst;
  }
  const { code, report } = await runJob(opts);
  out(report, opts.pretty);
  return code;
}

const round = (ms) => Math.round(ms * 10) / 10;

main().then(
  (code) => { process.exitCode = code; },
  (e) => { process.stderr.write(`fill.mjs crashed: ${e?.stack ?? e}\n`); process.exitCode = EXIT.LOAD; },
);
