// Validates Kubernetes YAML files against the API schemas, without a cluster:
//   node validate_kubernetes.js MODULES_DIR FILE...
// MODULES_DIR holds node_modules with `kubernetes-models` (the API schemas as classes with .validate()) and
// `js-yaml` (the parser), installed by the test (tests/integration/cluster_render_test.cpp). Each document
// must parse, have an apiVersion and kind that kubernetes-models knows, and pass its class's validate().
// Prints one line per document ("ok FILE#N Kind/name" or "invalid FILE#N ...: why"); exit 0 when all are valid.
'use strict';
const fs = require('fs');
const path = require('path');
const { createRequire } = require('module');

const [modulesDir, ...files] = process.argv.slice(2);
if (!modulesDir || files.length === 0) {
  console.error('usage: node validate_kubernetes.js MODULES_DIR FILE...');
  process.exit(2);
}
const load = createRequire(path.join(path.resolve(modulesDir), 'package.json'));
const yaml = load('js-yaml');

let bad = 0;
let count = 0;
for (const file of files) {
  let docs;
  try {
    docs = yaml.loadAll(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    console.log(`invalid ${file}: does not parse: ${e.message}`);
    bad++;
    continue;
  }
  docs.forEach((doc, i) => {
    if (doc === null || doc === undefined) return;  // an empty document (a leading ---)
    count++;
    const where = `${file}#${i}`;
    const apiVersion = doc.apiVersion || '';
    const kind = doc.kind || '';
    const name = (doc.metadata && doc.metadata.name) || '?';
    // core/v1 lives at kubernetes-models/v1, group/version at kubernetes-models/<group>/<version>.
    let Model;
    try {
      Model = load(`kubernetes-models/${apiVersion}`)[kind];
    } catch (e) {
      Model = undefined;
    }
    if (!Model) {
      console.log(`invalid ${where}: unknown apiVersion/kind '${apiVersion}' '${kind}'`);
      bad++;
      return;
    }
    try {
      new Model(doc).validate();
      console.log(`ok ${where} ${kind}/${name}`);
    } catch (e) {
      console.log(`invalid ${where} ${kind}/${name}: ${e.message}`);
      bad++;
    }
  });
}
console.log(`${count} documents, ${bad} invalid`);
process.exit(bad === 0 && count > 0 ? 0 : 1);
