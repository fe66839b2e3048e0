import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { describe, it } from "node:test";
import { apiKey, hubClient } from "../client.js";

const hub = hubClient({ key: apiKey });

describe("writes and the change feed", () => {
  it("creates, patches and deletes with the key and If-Match, and the feed tells a partner each step", async () => {
    // Where a partner's sync stands before the writes: the end of the feed.
    let after = 0;
    for (let page = 0; page < 100; page++) {
      const { data } = await hub.GET("/v1/changes", { params: { query: { after, limit: 1000 } } });
      assert.ok(data);
      after = data.items.at(-1)?.seq ?? after;
      if (data.next === null) break;
    }

    const id = `quantum-${randomUUID().slice(0, 8)}`;
    const idempotencyKey = randomUUID();
    const body = {
      id,
      name: "Quantum computing",
      strategic: false,
      description: "A field the tests add and remove again.",
      zones: ["zhangjiang"],
    };
    const created = await hub.POST("/v1/industries", { params: { header: { "Idempotency-Key": idempotencyKey } }, body });
    assert.equal(created.response.status, 201, JSON.stringify(created.error));
    assert.equal(created.data?.id, id);
    assert.equal(created.data?.version, 1);
    assert.equal(created.response.headers.get("location"), `/v1/industries/${id}`);
    const etag = created.response.headers.get("etag")!;
    assert.match(etag, /^"[0-9a-f]{32}"$/);

    // A retry with the same Idempotency-Key gets the first answer again, and creates nothing.
    const retried = await hub.POST("/v1/industries", { params: { header: { "Idempotency-Key": idempotencyKey } }, body });
    assert.equal(retried.response.status, 201);
    assert.equal(retried.response.headers.get("idempotent-replayed"), "true");

    const { data: industries } = await hub.GET("/v1/zones/{id}/industries", { params: { path: { id: "zhangjiang" } } });
    assert.ok(industries?.items.some((i) => i.id === id));

    // Unlink it from the zone too: a record still pointed at cannot be deleted.
    const patched = await hub.PATCH("/v1/industries/{id}", {
      params: { path: { id }, header: { "If-Match": etag } },
      body: { description: "Patched by the contract tests.", zones: [] },
      headers: { "Content-Type": "application/merge-patch+json" },
    });
    assert.equal(patched.response.status, 200, JSON.stringify(patched.error));
    assert.equal(patched.data?.version, 2);
    assert.equal(patched.data?.description, "Patched by the contract tests.");
    const newEtag = patched.response.headers.get("etag")!;
    assert.notEqual(newEtag, etag);

    // The first ETag is stale now: the write is refused, not lost.
    const stale = await hub.PATCH("/v1/industries/{id}", {
      params: { path: { id }, header: { "If-Match": etag } },
      body: { description: "A lost update." },
      headers: { "Content-Type": "application/merge-patch+json" },
    });
    assert.equal(stale.response.status, 412);
    assert.equal(stale.error?.status, 412);

    const deleted = await hub.DELETE("/v1/industries/{id}", { params: { path: { id }, header: { "If-Match": newEtag } } });
    assert.equal(deleted.response.status, 204);
    const gone = await hub.GET("/v1/industries/{id}", { params: { path: { id } } });
    assert.equal(gone.response.status, 404);

    // Sync: the feed after the last applied seq holds exactly this record's story, in order.
    const changes = [];
    for (let page = 0; page < 100; page++) {
      const { data } = await hub.GET("/v1/changes", { params: { query: { after, resource: ["industries"] } } });
      assert.ok(data);
      changes.push(...data.items);
      after = data.items.at(-1)?.seq ?? after;
      if (data.next === null) break;
    }
    const story = changes.filter((c) => c.id === id).map((c) => [c.op, c.version]);
    assert.deepEqual(story, [["created", 1], ["updated", 2], ["deleted", 3]]);
    const seqs = changes.map((c) => c.seq);
    assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b));
  });

  it("refuses to delete a record others point at with a 409 that lists them", async () => {
    const { response, error } = await hub.DELETE("/v1/zones/{id}", { params: { path: { id: "lingang" }, header: { "If-Match": "*" } } });
    assert.equal(response.status, 409);
    assert.ok(error && "references" in error);
    assert.ok(error.references?.some((r) => r.resource === "firms" && r.via === "zone" && r.ids.includes("smic")));
    const source = await hub.DELETE("/v1/sources/{id}", { params: { path: { id: "shanghai-digital-hub" }, header: { "If-Match": "*" } } });
    assert.equal(source.response.status, 409);
    assert.ok(source.error && "references" in source.error && source.error.references?.some((r) => r.via === "citations"));
  });

  it("refuses a write with an unknown key with a 401 problem", async () => {
    const stranger = hubClient({ key: "not-a-key-of-this-service" });
    const { response, error } = await stranger.POST("/v1/zones", { body: { name: "Nowhere" } });
    assert.equal(response.status, 401);
    assert.equal(error?.status, 401);
  });

  it("refuses an invalid record with a 400 problem naming the property", async () => {
    const { response, error } = await hub.POST("/v1/targets", {
      body: { name: "A target without its deadline", industry: "no-such-industry", deadline: 2030 },
    });
    assert.equal(response.status, 400);
    assert.ok(error && "errors" in error && error.errors?.industry);
  });
});
