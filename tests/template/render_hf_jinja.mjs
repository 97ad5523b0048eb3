// The reference renderer for the chat-template tests: @huggingface/jinja (the Jinja engine of transformers.js).
// Usage: node render_hf_jinja.mjs JS_DIR CASES.json
//   CASES.json: [{"template": "path/to/file.jinja", "context": {...}}, ...]
// Prints a JSON array, one entry per case: {"rendered": "..."} or {"error": "..."}.
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";

const [jsDir, casesPath] = process.argv.slice(2);
const { Template } = await import(
  pathToFileURL(`${jsDir}/node_modules/@huggingface/jinja/dist/index.js`).href
);
const cases = JSON.parse(readFileSync(casesPath, "utf8"));
const results = cases.map(({ template, context }) => {
  try {
    return { rendered: new Template(readFileSync(template, "utf8")).render(context) };
  } catch (e) {
    return { error: String(e && e.message ? e.message : e) };
  }
});
process.stdout.write(JSON.stringify(results));
