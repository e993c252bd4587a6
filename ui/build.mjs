// Builds the page into ../src/pollama/ui/static/: index.html plus content-hashed script, styles and icon.
// Deterministic: the same sources and lockfile give the same bytes (scripts/test checks the committed output).
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "..", "src", "pollama", "ui", "static");

const result = await esbuild.build({
  entryPoints: [join(here, "src", "main.js"), join(here, "src", "style.css")],
  bundle: true,
  minify: true,
  format: "esm",
  target: ["es2022", "chrome111", "firefox115", "safari16.4"],
  entryNames: "[name]-[hash]",
  outdir: out,
  write: false,
  charset: "utf8",
  legalComments: "eof",
  logLevel: "warning",
});

const hashed = (name, bytes) => {
  const digest = createHash("sha256").update(bytes).digest("hex").slice(0, 10);
  return name.replace(/(\.[a-z]+)$/, `-${digest}$1`);
};

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const names = {};
for (const file of result.outputFiles) {
  const name = basename(file.path);
  writeFileSync(join(out, name), file.contents);
  names[name.endsWith(".js") ? "js" : "css"] = name;
}
const icon = readFileSync(join(here, "src", "icon.svg"));
names.icon = hashed("icon.svg", icon);
writeFileSync(join(out, names.icon), icon);

const html = readFileSync(join(here, "src", "index.html"), "utf8")
  .replaceAll("%JS%", names.js)
  .replaceAll("%CSS%", names.css)
  .replaceAll("%ICON%", names.icon);
writeFileSync(join(out, "index.html"), html);
console.log(readdirSync(out).sort().join("\n"));
