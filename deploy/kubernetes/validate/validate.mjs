// Validates Kubernetes manifests offline against the Kubernetes OpenAPI schemas bundled in
// kubernetes-models (no cluster, no network):
//   kubectl kustomize deploy/kubernetes/overlays/small | node validate.mjs
// Every document must be a known apiVersion/kind and pass its schema; unknown kinds fail too.
// Exit status 0 when all pass, 1 with one line per problem otherwise.
import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";

const input = readFileSync(process.argv[2] ?? 0, "utf8");
const problems = [];
let checked = 0;

for (const doc of parseAllDocuments(input)) {
  if (doc.errors.length > 0) {
    problems.push(`YAML: ${doc.errors.map((e) => e.message).join("; ")}`);
    continue;
  }
  const object = doc.toJS();
  if (object == null) continue;
  const { apiVersion, kind } = object;
  const name = `${kind}/${object.metadata?.name}`;
  // core/v1 lives at kubernetes-models/v1, apps/v1 at kubernetes-models/apps/v1.
  const module = `kubernetes-models/${apiVersion}/${kind}`;
  let Model;
  try {
    Model = (await import(module))[kind];
  } catch (e) {
    problems.push(`${name}: no schema for ${apiVersion} ${kind} (${e.code ?? e.message})`);
    continue;
  }
  try {
    new Model(object).validate();
    checked++;
  } catch (e) {
    problems.push(`${name}: ${e.message}`);
  }
}

if (checked === 0 && problems.length === 0) problems.push("no manifests in the input");
for (const p of problems) console.error(p);
console.log(`${checked} manifests valid, ${problems.length} problems`);
process.exit(problems.length === 0 ? 0 : 1);
