// The front-end door through @hey-api/openapi-ts: its SDK and fetch client as generated at its defaults
// (`openapi-ts --input --output`), pointed at the live service (through Prism) with setConfig.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { describe, it } from "node:test";
import { apiKey, assertKeepsContract, baseUrl } from "../client.js";
import { client } from "../generated/hey/client.gen.js";
import {
  createIndustry, exportFirmsCsv, getFirm, listChanges, listFirms, listIndustries, listZones, patchIndustry,
} from "../generated/hey/sdk.gen.js";

client.setConfig({ baseUrl, auth: () => apiKey });
client.interceptors.response.use(async (response, request) => {
  await assertKeepsContract(request.method, request.url, response);
  return response;
});

describe("the @hey-api/openapi-ts client", () => {
  it("filters by two values of a list and sorts by two keys", async () => {
    const { data } = await listIndustries({ query: { zone: ["lingang", "west-bund"], limit: 100 } });
    assert.ok(data);
    const ids = data.items.map((i) => i.id);
    assert.ok(ids.includes("integrated-circuits") && ids.includes("media") && !ids.includes("biomedicine"));

    const zones = await listZones({ query: { sort: ["district", "-name"] } });
    assert.deepEqual(zones.data?.items.map((z) => z.id), ["zhangjiang", "lingang", "west-bund"]);
  });

  it("pages to the end by cursor, each record once, and counts", async () => {
    const first = await listIndustries({ query: { limit: 3, sort: ["name"], count: true } });
    const total = first.data?.total ?? 0;
    assert.ok(total > 3);
    const seen = first.data?.items.map((i) => i.id) ?? [];
    for (let cursor = first.data?.next; cursor;) {
      const { data } = await listIndustries({ query: { limit: 3, sort: ["name"], cursor } });
      assert.ok(data && seen.length < total);
      seen.push(...data.items.map((i) => i.id));
      cursor = data.next;
    }
    assert.equal(seen.length, total);
    assert.equal(new Set(seen).size, total);
  });

  it("gets by id, includes related records, and answers an unknown id with a 404 problem", async () => {
    const smic = await getFirm({ path: { id: "smic" } });
    assert.equal(smic.data?.zone, "lingang");
    const { data } = await listFirms({ query: { include: ["zone", "industries"] } });
    assert.equal(data?.items.find((f) => f.id === "smic")?.embedded?.zone?.name, "Lingang");

    const missing = await getFirm({ path: { id: "no-such-firm" } });
    assert.equal(missing.response?.status, 404);
    assert.match(missing.error?.detail ?? "", /no-such-firm/);
  });

  it("exports CSV", async () => {
    const { data, response } = await exportFirmsCsv({ query: { zone: ["lingang"], fields: ["name"] } });
    assert.equal(response?.status, 200);
    const text = typeof data === "string" ? data : await (data as Blob).text();
    assert.ok(text.startsWith("id,name\r\n"));
    assert.match(text, /\r\nsmic,/);
  });

  it("creates and patches with If-Match, and the feed tells each step", async () => {
    let after = 0;
    for (let more = true; more;) {
      const { data } = await listChanges({ query: { after, limit: 1000 } });
      assert.ok(data);
      after = data.items.at(-1)?.seq ?? after;
      more = data.next !== null;
    }
    const id = `hey-${randomUUID().slice(0, 8)}`;
    const created = await createIndustry({
      headers: { "Idempotency-Key": randomUUID() },
      body: { id, name: "Quantum computing", strategic: false },
    });
    assert.equal(created.response?.status, 201);
    const etag = created.response?.headers.get("etag") ?? "";
    const patched = await patchIndustry({ path: { id }, headers: { "If-Match": etag }, body: { description: "Patched through hey-api." } });
    assert.equal(patched.data?.version, 2);
    const stale = await patchIndustry({ path: { id }, headers: { "If-Match": etag }, body: { description: "A lost update." } });
    assert.equal(stale.response?.status, 412);

    const { data } = await listChanges({ query: { after, resource: ["industries"] } });
    assert.deepEqual(data?.items.filter((c) => c.id === id).map((c) => [c.op, c.version]), [["created", 1], ["updated", 2]]);
  });
});
