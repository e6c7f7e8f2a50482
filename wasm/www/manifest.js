// YAML manifests for the engine: parsed here (the `yaml` package, vendored
// into vendor/yaml/ by build.sh), passed on as one JSON value per line
// (`null` for an empty document), so that the engine's `document` index is
// the YAML document's. Problems are placed back at the YAML line of their
// document and field.

/** Line (1-based) of a character offset. */
function lineOf(text, offset) {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

/** `spec.ports[0].targetPort`, `metadata.labels[app.kubernetes.io/name]` → path keys. */
export function fieldPath(field) {
  const keys = [];
  const re = /([^.[\]]+)|\[([^\]]*)\]/g;
  let m;
  while ((m = re.exec(field))) {
    if (m[1] !== undefined) keys.push(m[1]);
    else keys.push(/^\d+$/.test(m[2]) ? Number(m[2]) : m[2]);
  }
  return keys;
}

/**
 * Parses YAML text into the engine's input. Returns `{json, docs, errors}`:
 * `errors` are YAML syntax errors `{document, line, message}`; `docs` the
 * parsed documents (for placing engine problems).
 */
export function toEngineInput(YAML, text) {
  const docs = YAML.parseAllDocuments(text);
  const errors = [];
  const lines = [];
  docs.forEach((doc, document) => {
    for (const e of doc.errors ?? []) {
      errors.push({ document, line: e.linePos?.[0]?.line ?? lineOf(text, e.pos?.[0] ?? 0), message: e.message.split("\n")[0] });
    }
    const value = doc.errors?.length ? null : doc.toJS();
    lines.push(JSON.stringify(value ?? null));
  });
  return { json: lines.join("\n"), docs, errors };
}

/** The YAML line of an engine problem (`{document, field}`), or of its document. */
export function problemLine(text, docs, problem) {
  const doc = docs[problem.document ?? 0];
  if (!doc) return null;
  let node = null;
  if (problem.field) {
    const keys = fieldPath(problem.field);
    for (let n = keys.length; n > 0 && !node; n--) {
      const found = doc.getIn(keys.slice(0, n), true);
      if (found && found.range) node = found;
    }
  }
  const at = node?.range?.[0] ?? doc.contents?.range?.[0] ?? doc.range?.[0] ?? 0;
  return lineOf(text, at);
}
