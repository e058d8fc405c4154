// Builds lms/static/editor/editor.js (one minified bundle) and LICENSES.txt (the licence of
// every package inside it). Deterministic: .ci/run rebuilds and fails if the committed
// files differ. Run: npm ci && npm run build (from this folder).
import { build } from "esbuild";
import { readFileSync, writeFileSync, mkdirSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "..", "lms", "static", "editor");
mkdirSync(out, { recursive: true });

const result = await build({
  entryPoints: [join(here, "src", "editor.js")],
  bundle: true,
  minify: true,
  format: "iife",
  target: ["es2020"],
  legalComments: "none",
  metafile: true,
  outfile: join(out, "editor.js"),
  logLevel: "warning",
});

// The packages whose code went into the bundle, each with its licence text.
const packages = new Set();
for (const input of Object.keys(result.metafile.inputs)) {
  const match = input.match(/node_modules\/((?:@[^/]+\/)?[^/]+)\//);
  if (match) packages.add(match[1]);
}
const sections = [...packages].sort().map((name) => {
  const folder = join(here, "node_modules", name);
  const meta = JSON.parse(readFileSync(join(folder, "package.json"), "utf8"));
  const file = readdirSync(folder).find((f) => /^licen[cs]e/i.test(f));
  const text = file ? readFileSync(join(folder, file), "utf8").trim() : `License: ${meta.license}`;
  return `${name} ${meta.version} (${meta.license})\n\n${text}\n`;
});
const header =
  "Third-party code in editor.js (built from frontend/ in the Oqu repository).\n\n";
writeFileSync(join(out, "LICENSES.txt"), header + sections.join("\n" + "-".repeat(72) + "\n\n"));
console.log(`editor.js: ${packages.size} packages bundled`);
