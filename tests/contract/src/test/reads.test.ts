import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { hubClient } from "../client.js";

const hub = hubClient();

describe("reads", () => {
  it("lists with typed filters and sort", async () => {
    const { data, response } = await hub.GET("/v1/industries", {
      params: { query: { strategic: true, sort: ["-name"], count: true } },
    });
    assert.equal(response.status, 200);
    assert.ok(data);
    assert.ok(data.items.length > 0);
    assert.ok(data.items.every((i) => i.strategic === true));
    const names = data.items.map((i) => i.name ?? "");
    assert.deepEqual(names, [...names].sort((a, b) => (a < b ? 1 : a > b ? -1 : 0)));
    assert.equal(data.total, data.items.length);
  });

  it("filters by two values of a list (sent as zone=a&zone=b), and sorts by two keys", async () => {
    const { data } = await hub.GET("/v1/industries", { params: { query: { zone: ["lingang", "west-bund"], limit: 100 } } });
    assert.ok(data);
    const ids = data.items.map((i) => i.id);
    assert.ok(ids.includes("integrated-circuits") && ids.includes("media") && !ids.includes("biomedicine"));
    assert.ok(data.items.every((i) => i.zones?.some((z) => z === "lingang" || z === "west-bund")));

    const zones = await hub.GET("/v1/zones", { params: { query: { sort: ["district", "-name"] } } });
    assert.ok(zones.data);
    const keys = zones.data.items.map((z) => [z.district ?? "", z.name ?? ""] as const);
    const sorted = [...keys].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] > b[1] ? -1 : a[1] < b[1] ? 1 : 0));
    assert.deepEqual(keys, sorted);
  });

  it("pages to the end with the cursor, each record once", async () => {
    const { data: all } = await hub.GET("/v1/industries", { params: { query: { count: true, limit: 100 } } });
    assert.ok(all?.total);
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const { data, response } = await hub.GET("/v1/industries", { params: { query: { limit: 3, sort: ["name"], cursor } } });
      assert.ok(data, `page ${pages + 1}`);
      seen.push(...data.items.map((i) => i.id));
      assert.equal(response.headers.has("link"), data.next !== null);
      cursor = data.next ?? undefined;
      pages++;
    } while (cursor && pages < 50);
    assert.equal(cursor, undefined);
    assert.equal(seen.length, all.total);
    assert.equal(new Set(seen).size, seen.length);
    assert.equal(pages, Math.ceil(all.total / 3));
  });

  it("embeds related records with include", async () => {
    const { data } = await hub.GET("/v1/firms", { params: { query: { include: ["zone", "industries"] } } });
    const smic = data?.items.find((f) => f.id === "smic");
    assert.ok(smic);
    assert.equal(smic.zone, "lingang");
    assert.equal(smic.embedded?.zone?.name, "Lingang");
    assert.ok(smic.embedded?.industries?.some((i) => i.id === "integrated-circuits" && i.strategic === true));
  });

  it("selects fields", async () => {
    const { data } = await hub.GET("/v1/zones", { params: { query: { fields: ["name"] } } });
    assert.ok(data);
    for (const zone of data.items) assert.deepEqual(Object.keys(zone).sort(), ["id", "name"]);
  });

  it("searches the full text", async () => {
    const { data } = await hub.GET("/v1/projects", { params: { query: { q: "wafer" } } });
    assert.ok(data?.items.some((p) => p.id === "smic-lingang-wafer-plant"));
  });

  it("gets one record with its citations, and a nested list", async () => {
    const { data, response } = await hub.GET("/v1/firms/{id}", { params: { path: { id: "smic" } } });
    assert.equal(response.status, 200);
    assert.equal(data?.name, "Semiconductor Manufacturing International Corporation");
    assert.ok((data?.citations?.length ?? 0) > 0);
    const nested = await hub.GET("/v1/zones/{id}/facilities", { params: { path: { id: "zhangjiang" } } });
    assert.ok(nested.data?.items.some((f) => f.id === "ssrf"));
  });

  it("counts facets", async () => {
    const { data } = await hub.GET("/v1/services/facets", { params: { query: { by: ["area"] } } });
    assert.ok(data?.area);
    assert.ok(data.area.every((c) => c.count >= 1));
  });

  it("answers a conditional GET with 304 while the ETag matches", async () => {
    const first = await hub.GET("/v1/zones/{id}", { params: { path: { id: "lingang" } } });
    const etag = first.response.headers.get("etag");
    assert.match(etag ?? "", /^"[0-9a-f]{32}"$/);
    const again = await hub.GET("/v1/zones/{id}", { params: { path: { id: "lingang" }, header: { "If-None-Match": etag! } } });
    assert.equal(again.response.status, 304);
    assert.equal(again.data, undefined);
    const list = await hub.GET("/v1/zones", {});
    const listAgain = await hub.GET("/v1/zones", { params: { header: { "If-None-Match": list.response.headers.get("etag")! } } });
    assert.equal(listAgain.response.status, 304);
  });

  it("answers an unknown id with a 404 problem", async () => {
    const { error, response } = await hub.GET("/v1/firms/{id}", { params: { path: { id: "no-such-firm" } } });
    assert.equal(response.status, 404);
    assert.equal(response.headers.get("content-type"), "application/problem+json");
    assert.equal(error?.status, 404);
    assert.match(error?.detail ?? "", /no-such-firm/);
  });

  it("answers a cursor from another query with a 400 problem naming it", async () => {
    const { data } = await hub.GET("/v1/industries", { params: { query: { limit: 2 } } });
    assert.ok(data?.next);
    const { error, response } = await hub.GET("/v1/industries", { params: { query: { limit: 2, sort: ["-name"], cursor: data.next } } });
    assert.equal(response.status, 400);
    assert.ok(error && "errors" in error && error.errors?.cursor);
  });
});
