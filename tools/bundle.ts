// Lays out the controller as it ships (the Debian package, the small image): one esbuild bundle of src/ with its
// production dependencies, split where src/ imports lazily, beside the files it reads at run time.
// Usage: tsx tools/bundle.ts <out dir> [source root (default: this checkout; an older release's tree works too)]
import { cp, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
/** What the controller reads beside its code (PACKAGE_ROOT/...): templates, the shipped nginx files, the sample app, the Compose schema. */
const RUNTIME_DIRS = ["templates", "nginx", "examples", "vendor"];

// Bundled CommonJS dependencies (dockerode's ssh2, protobufjs) reach for require and __dirname, which an ES module
// lacks: each output file defines them for itself.
const COMMONJS_SHIM = [
  'import { createRequire as __bundleRequire } from "node:module";',
  'import { fileURLToPath as __bundlePath } from "node:url";',
  'import { dirname as __bundleDir } from "node:path";',
  "const require = __bundleRequire(import.meta.url);",
  "const __filename = __bundlePath(import.meta.url);",
  "const __dirname = __bundleDir(__filename);",
].join(" ");

export async function bundle(outDir: string, sourceRoot = ROOT): Promise<void> {
  await rm(outDir, { recursive: true, force: true });
  await build({
    entryPoints: [path.join(sourceRoot, "src/cli/main.ts")],
    // Every chunk sits in dist/cli, as main.js does: PACKAGE_ROOT (two folders up from the code) holds for each.
    outdir: path.join(outDir, "dist/cli"),
    bundle: true,
    splitting: true,
    format: "esm",
    platform: "node",
    target: "node22",
    // ssh2's optional native speed-ups: it falls back to JavaScript when they are absent.
    external: ["*.node"],
    banner: { js: COMMONJS_SHIM },
    legalComments: "linked",
    logLevel: "error",
  });
  for (const dir of RUNTIME_DIRS) await cp(path.join(sourceRoot, dir), path.join(outDir, dir), { recursive: true }).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== "ENOENT") throw error;
  });
  const manifest = JSON.parse(await readFile(path.join(sourceRoot, "package.json"), "utf8")) as Record<string, unknown>;
  const shipped = { name: manifest.name, version: manifest.version, description: manifest.description, type: "module", license: manifest.license };
  await mkdir(outDir, { recursive: true });
  await writeFile(path.join(outDir, "package.json"), `${JSON.stringify(shipped, null, 2)}\n`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [outDir, sourceRoot] = process.argv.slice(2);
  if (!outDir) {
    console.error("usage: tsx tools/bundle.ts <out dir> [source root]");
    process.exit(2);
  }
  await bundle(path.resolve(outDir), sourceRoot ? path.resolve(sourceRoot) : ROOT);
}
