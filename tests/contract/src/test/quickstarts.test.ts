// The README's quick starts for front-end teams, run as written: each door's shell block in a folder of its own,
// then its code, against the live service. `npm install` lines are the one thing not run: the same packages are
// pinned in this folder's package-lock.json, and the folder's node_modules is linked in instead.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";

const contract = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const readme = readFileSync(resolve(contract, "../../README.md"), "utf8");
// The service itself, not Prism: the quick starts fetch the served document too.
const serviceUrl = process.env.HUBAPI_SERVICE_URL ?? process.env.HUBAPI_URL ?? "http://localhost:5080";

/** Each door's blocks, by the `quickstart=<door>` the README tags them with, in order. */
function blocks(door: string): { language: string; code: string }[] {
  return [...readme.matchAll(/^```(\w+) quickstart=([\w-]+)\n([\s\S]*?)^```$/gm)]
    .filter((m) => m[2] === door)
    .map((m) => ({ language: m[1] ?? "", code: m[3] ?? "" }));
}

function run(door: string): string {
  const found = blocks(door);
  assert.ok(found.length > 0, `the README has no quick start tagged quickstart=${door}`);
  const work = mkdtempSync(join(tmpdir(), `hubapi-quickstart-${door}-`));
  const env = { ...process.env, HUBAPI_URL: serviceUrl };
  const options = { cwd: work, env, encoding: "utf8" as const, timeout: 180_000, stdio: ["ignore", "pipe", "pipe"] as ["ignore", "pipe", "pipe"] };
  try {
    symlinkSync(join(contract, "node_modules"), join(work, "node_modules"), "dir");
    writeFileSync(join(work, "package.json"), JSON.stringify({ type: "module", private: true }));
    let output = "";
    for (const { language, code } of found) {
      if (language === "sh") {
        const script = code.split("\n").filter((line) => !/^\s*npm (install|i) /.test(line)).join("\n");
        execFileSync("bash", ["-euo", "pipefail", "-c", script], options);
      } else if (language === "js") {
        writeFileSync(join(work, "index.mjs"), code);
        output += execFileSync(process.execPath, ["index.mjs"], options);
      } else if (language === "ts") {
        writeFileSync(join(work, "index.ts"), code);
        writeFileSync(join(work, "tsconfig.json"), JSON.stringify({
          compilerOptions: { target: "ES2022", module: "NodeNext", moduleResolution: "NodeNext", strict: true, lib: ["ES2022", "DOM"], types: ["node"], skipLibCheck: true },
          include: ["*.ts", "**/*.ts"], exclude: ["node_modules"],
        }));
        execFileSync(join(contract, "node_modules/.bin/tsc"), ["-p", "."], options);
        output += execFileSync(process.execPath, ["index.js"], options);
      } else {
        assert.fail(`quickstart=${door}: no way to run a ${language} block`);
      }
    }
    return output;
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(`quickstart=${door} failed: ${(error as Error).message}\n${stdout ?? ""}\n${stderr ?? ""}`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

describe("the README's quick starts", () => {
  it("fetch", () => assert.match(run("fetch"), /^Lingang 304$/m));
  it("openapi-typescript + openapi-fetch", () => assert.match(run("openapi-fetch"), /Semiconductor Manufacturing International Corporation Lingang/));
  it("@hey-api/openapi-ts", () => assert.match(run("hey-api"), /^404 .*no-such-firm/m));
});
