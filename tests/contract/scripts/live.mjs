// Runs the TypeScript suite against the live service through Prism's validation proxy:
// starts the real service binary on a fresh database, puts `prism proxy --errors` in front of it, runs
// `node --test` (TAP on stdout) with HUBAPI_URL pointing at Prism (HUBAPI_SERVICE_URL at the service itself, for the
// README's quick starts, which fetch the served document), then stops both. Exits with the suite's code.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createWriteStream, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const root = resolve(here, "../..");
const dll = process.env.HUBAPI_DLL ?? join(root, "src/HubApi/bin/Release/net10.0/HubApi.dll");
const logs = process.env.HUBAPI_LOG_DIR ?? mkdtempSync(join(tmpdir(), "hubapi-live-"));
const work = mkdtempSync(join(tmpdir(), "hubapi-db-"));

const freePort = () =>
  new Promise((done, fail) => {
    const server = createServer();
    server.once("error", fail);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => done(port));
    });
  });

async function waitFor(url, what, child, seconds = 60, listening = () => true) {
  const deadline = Date.now() + seconds * 1000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${what} exited with ${child.exitCode} before it was ready`);
    if (!listening()) {
      await new Promise((r) => setTimeout(r, 200));
      continue;
    }
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
      if (response.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${what} was not ready at ${url} within ${seconds} s`);
}

function readLog(name) {
  try {
    return readFileSync(join(logs, name), "utf8");
  } catch {
    return ""; // not written yet
  }
}

function start(command, args, env, log) {
  const out = createWriteStream(join(logs, log));
  const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  child.stdout.pipe(out);
  child.stderr.pipe(out);
  return child;
}

const prismPort = await freePort();
const key = randomBytes(24).toString("base64url");
const children = [];
let code = 1;

/** Starts the service; a port found free can be taken by another process before the service binds it: then try another. */
async function startService() {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const service = start("dotnet", [dll], {
      ConnectionStrings__Hub: `Data Source=${join(work, "hub.db")}`,
      Auth__AdminKey: key,
      ASPNETCORE_URLS: url,
      ASPNETCORE_ENVIRONMENT: "Production",
      RateLimiting__AnonymousPermitsPerMinute: "0",
      RateLimiting__KeyedPermitsPerMinute: "0",
    }, "service.log");
    children.push(service);
    try {
      // Ready, and it is this process that listens.
      await waitFor(`${url}/health/ready`, "the service", service, 60, () => readLog("service.log").includes(`Now listening on: ${url}`));
      return url;
    } catch (error) {
      if (attempt >= 3 || !readLog("service.log").includes("address already in use")) throw error;
    }
  }
}

try {
  const serviceUrl = await startService();

  const prism = start(join(here, "node_modules/.bin/prism"), [
    "proxy", "--errors", "--host", "127.0.0.1", "--port", String(prismPort),
    join(root, "openapi.yaml"), serviceUrl,
  ], {}, "prism.log");
  children.push(prism);
  await waitFor(`http://127.0.0.1:${prismPort}/v1/sources`, "Prism", prism);

  const suite = spawn(process.execPath, ["--test", "--test-reporter=tap", join(here, "build/test")], {
    env: { ...process.env, HUBAPI_URL: `http://127.0.0.1:${prismPort}`, HUBAPI_SERVICE_URL: serviceUrl, HUBAPI_KEY: key },
    stdio: "inherit",
  });
  code = await new Promise((done) => suite.on("exit", (c) => done(c ?? 1)));
} catch (error) {
  console.error(`live: ${error.message}`);
} finally {
  for (const child of children.reverse()) child.kill("SIGTERM");
  await new Promise((r) => setTimeout(r, 500));
  if (code !== 0) {
    for (const log of ["service.log", "prism.log"]) {
      console.error(`--- ${log} (last lines) ---\n${readLog(log).split("\n").slice(-15).map((l) => l.slice(0, 400)).join("\n")}`);
    }
  }
  rmSync(work, { recursive: true, force: true });
}
process.exit(code);
