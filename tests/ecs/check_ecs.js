#!/usr/bin/env node
// check_ecs.js: reads NDJSON (shakedown -F ecs) on stdin and checks every field outside
// `shakedown.*` against Elastic's published ECS field definitions (npm @elastic/ecs, EcsFlat):
// the field must exist, its value must have the field's type (keyword/ip/date/text: string,
// long/float…: number, boolean), arrays only where ECS normalizes the field to an array, values
// of fields with allowed values (event.kind, event.category, event.type) among them, ip fields
// valid addresses. Prints "checked N fields in M documents" and exits 0, or lists every problem
// and exits 1.
'use strict';
const net = require('net');
const readline = require('readline');
const { EcsFlat } = require('@elastic/ecs');

const STRING_TYPES = new Set(['keyword', 'ip', 'date', 'match_only_text', 'text', 'wildcard',
  'constant_keyword', 'flattened']);
const INTEGER_TYPES = new Set(['long', 'integer', 'short', 'byte', 'unsigned_long']);
const FLOAT_TYPES = new Set(['float', 'double', 'scaled_float', 'half_float']);

function typeProblem(def, v) {
  if (STRING_TYPES.has(def.type)) {
    if (typeof v !== 'string') return `${def.type} wants a string, got ${JSON.stringify(v)}`;
    if (def.type === 'ip' && !net.isIP(v)) return `not an IP address: ${v}`;
    if (def.type === 'date' && Number.isNaN(Date.parse(v))) return `not a date: ${v}`;
  } else if (INTEGER_TYPES.has(def.type)) {
    if (!Number.isInteger(v)) return `${def.type} wants an integer, got ${JSON.stringify(v)}`;
  } else if (FLOAT_TYPES.has(def.type)) {
    if (typeof v !== 'number') return `${def.type} wants a number, got ${JSON.stringify(v)}`;
  } else if (def.type === 'boolean') {
    if (typeof v !== 'boolean') return `boolean wanted, got ${JSON.stringify(v)}`;
  } else {
    return `type ${def.type} is not one shakedown should write`;
  }
  if (def.allowed_values && !def.allowed_values.some((a) => a.name === v))
    return `${JSON.stringify(v)} is not an allowed value`;
  return null;
}

function check(doc, prefix, problems, counter) {
  for (const [k, v] of Object.entries(doc)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (!prefix && k === 'shakedown') continue; // shakedown's own namespace
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      check(v, key, problems, counter);
      continue;
    }
    const def = EcsFlat[key];
    counter.fields++;
    if (!def) {
      problems.push(`${key}: not an ECS field`);
      continue;
    }
    const values = Array.isArray(v) ? v : [v];
    if (Array.isArray(v) && !(def.normalize || []).includes('array'))
      problems.push(`${key}: an array, but ECS does not normalize it to one`);
    for (const x of values) {
      const p = typeProblem(def, x);
      if (p) problems.push(`${key}: ${p}`);
    }
  }
}

const problems = [];
const counter = { fields: 0, docs: 0 };
const rl = readline.createInterface({ input: process.stdin });
rl.on('line', (line) => {
  if (!line.trim()) return;
  let doc;
  try {
    doc = JSON.parse(line);
  } catch (e) {
    problems.push(`not JSON: ${line.slice(0, 80)}`);
    return;
  }
  counter.docs++;
  if (typeof doc['@timestamp'] !== 'string') problems.push('@timestamp missing');
  check(doc, '', problems, counter);
});
rl.on('close', () => {
  if (problems.length) {
    for (const p of [...new Set(problems)]) console.log(p);
    process.exit(1);
  }
  console.log(`checked ${counter.fields} fields in ${counter.docs} documents`);
});
