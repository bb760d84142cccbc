// `npm run build`: vendors the browser assets into static/vendor/ (committed; no CDN, no build at run time).
//   static/vendor/jkurwa/ehealth-dstu.js <- static/js/src/dstu-sign.js with jkurwa/gost89 (window.EhealthDstu)
//   static/vendor/pkijs/ehealth-sign.js  <- static/js/src/sign.js with pkijs/asn1js (window.EhealthSign)
//   static/vendor/pkijs/LICENSES.txt     <- the licences of the bundled packages
//   static/vendor/leaflet/               <- node_modules/leaflet/dist (leaflet.js, .map, .css, images/)
//   static/vendor/chartjs/               <- node_modules/chart.js/dist/chart.umd.min.js (+ .map, LICENSE.md)
// The output is deterministic (no dates), so a rebuild with the same lock file changes nothing.
import { createHash } from "node:crypto";
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

import * as esbuild from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
const modules = join(root, "node_modules");
const vendor = join(root, "static", "vendor");

function version(name) {
  const manifest = JSON.parse(readFileSync(join(modules, name, "package.json"), "utf8"));
  return `${manifest.name} ${manifest.version} (${manifest.license})`;
}

const bundled = ["pkijs", "asn1js", "bytestreamjs", "@peculiar/utils", "@noble/hashes"];
const source = join(root, "static", "js", "src", "sign.js");
// The source's hash in the banner lets a test notice a bundle that was not rebuilt after an edit.
const sourceText = readFileSync(source, "utf8").replace(/\r\n/g, "\n");
const sourceHash = createHash("sha256").update(sourceText).digest("hex");
await esbuild.build({
  entryPoints: [source],
  outfile: join(vendor, "pkijs", "ehealth-sign.js"),
  bundle: true,
  format: "iife",
  globalName: "EhealthSign",
  platform: "browser",
  target: "es2020", // asn1js uses BigInt
  minify: true,
  legalComments: "eof",
  banner: {
    js:
      "/*! EhealthSign: static/js/src/sign.js bundled with " +
      `${bundled.map(version).join(", ")}; built by ${version("esbuild")}; ` +
      `source sha256 ${sourceHash}. Licences: LICENSES.txt beside this file. ` +
      "Rebuild: npm ci && npm run build (static/vendor/README.md). */",
  },
  logLevel: "info",
});

// The BSD licences ask for their notices to travel with the binary form.
writeFileSync(
  join(vendor, "pkijs", "LICENSES.txt"),
  bundled
    .map((name) => {
      const licence = readFileSync(join(modules, name, "LICENSE"), "utf8").trim();
      return `${"=".repeat(78)}\n${version(name)}\n\n${licence}\n`;
    })
    .join("\n"),
);

const leaflet = join(vendor, "leaflet");
rmSync(leaflet, { recursive: true, force: true });
mkdirSync(leaflet, { recursive: true });
// leaflet.js names its source map, which Django's manifest storage requires to exist.
for (const file of ["leaflet.js", "leaflet.js.map", "leaflet.css", "images"]) {
  cpSync(join(modules, "leaflet", "dist", file), join(leaflet, file), { recursive: true });
}
cpSync(join(modules, "leaflet", "LICENSE"), join(leaflet, "LICENSE"));
console.log(`copied ${version("leaflet")} to static/vendor/leaflet/`);

// Chart.js ships a minified UMD build (window.Chart); copied as is, with the source map it names.
const chartjs = join(vendor, "chartjs");
rmSync(chartjs, { recursive: true, force: true });
mkdirSync(chartjs, { recursive: true });
for (const file of ["chart.umd.min.js", "chart.umd.min.js.map"]) {
  cpSync(join(modules, "chart.js", "dist", file), join(chartjs, file));
}
cpSync(join(modules, "chart.js", "LICENSE.md"), join(chartjs, "LICENSE.md"));
console.log(`copied ${version("chart.js")} to static/vendor/chartjs/`);

// DSTU 4145 signing (Ukrainian key files) with jkurwa and gost89: a second IIFE, window.EhealthDstu.
// jkurwa's file-path helpers need node's fs (never called in the page), and its code uses the
// global Buffer and `global`; the bundle gets the "buffer" package and globalThis instead.
const dstuBundled = [
  "jkurwa", "gost89", "jksreader", "js-lzma", "asn1.js", "bn.js", "buffer", "base64-js", "ieee754",
  "inherits", "minimalistic-assert", "safer-buffer", "js-sha1",
];
// jkurwa, gost89 and jksreader declare "BSD" but ship no licence text in their npm packages; jkurwa's
// text is the upstream repository's LICENSE (static/js/src/licenses/), the others are noted as such.
const upstreamLicences = { jkurwa: join(root, "static", "js", "src", "licenses", "jkurwa-LICENSE") };
function licenceText(name) {
  const directory = join(modules, name);
  const file = ["LICENSE", "LICENSE.txt", "LICENSE.md"].find((candidate) => existsSync(join(directory, candidate)));
  if (file) return readFileSync(join(directory, file), "utf8").trim();
  if (upstreamLicences[name]) return readFileSync(upstreamLicences[name], "utf8").trim();
  return "The npm package declares the licence named above and ships no licence text.";
}
const dstuSource = join(root, "static", "js", "src", "dstu-sign.js");
const dstuHash = createHash("sha256")
  .update(readFileSync(dstuSource, "utf8").replace(/\r\n/g, "\n"))
  .digest("hex");
mkdirSync(join(vendor, "jkurwa"), { recursive: true });
await esbuild.build({
  entryPoints: [dstuSource],
  outfile: join(vendor, "jkurwa", "ehealth-dstu.js"),
  bundle: true,
  format: "iife",
  globalName: "EhealthDstu",
  platform: "browser",
  target: "es2020",
  minify: true,
  legalComments: "eof",
  define: { global: "globalThis" },
  alias: { fs: join(root, "static", "js", "src", "empty-module.js") },
  inject: [join(root, "static", "js", "src", "buffer-shim.js")],
  banner: {
    js:
      "/*! EhealthDstu: static/js/src/dstu-sign.js bundled with " +
      `${["jkurwa", "gost89", "jksreader", "asn1.js", "buffer"].map(version).join(", ")}; ` +
      `built by ${version("esbuild")}; source sha256 ${dstuHash}. Licences: LICENSES.txt beside ` +
      "this file. Rebuild: npm ci && npm run build (static/vendor/README.md). */",
  },
  logLevel: "info",
});
writeFileSync(
  join(vendor, "jkurwa", "LICENSES.txt"),
  dstuBundled
    .map((name) => `${"=".repeat(78)}\n${version(name)}\n\n${licenceText(name)}\n`)
    .join("\n"),
);
