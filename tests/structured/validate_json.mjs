// The JSON Schema oracle for the constrained-generation tests: Ajv (draft 2020-12, formats via ajv-formats).
//   node validate_json.mjs IN_JSON OUT_JSON
// IN_JSON: [{schema, texts: [string]}]; OUT_JSON: per case, per text, null when the text parses as JSON and
// validates, else the parse error or Ajv's errors.
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";

const jsDir = process.env.R1_JS_DIR;
const load = async (p) => (await import(pathToFileURL(path.join(jsDir, "node_modules", p)).href)).default;
const Ajv2020 = await load("ajv/dist/2020.js");
const addFormats = await load("ajv-formats/dist/index.js");

const [input, output] = process.argv.slice(2);
const cases = JSON.parse(fs.readFileSync(input, "utf8"));
const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);
const results = cases.map(({ schema, texts }) => {
  const validate = ajv.compile(schema);
  return texts.map((t) => {
    let v;
    try {
      v = JSON.parse(t);
    } catch (e) {
      return "JSON.parse: " + e.message;
    }
    return validate(v) ? null : JSON.stringify(validate.errors);
  });
});
fs.writeFileSync(output, JSON.stringify(results));
