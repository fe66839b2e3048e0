import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { checkedFetch } from "../client.js";

// Every record of every resource, as lists, items and with every relation embedded, through Prism: each answer
// must match the contract, down to the last nullable relation and enum value.
const resources: Record<string, string[]> = {
  sources: [],
  zones: ["industries"],
  industries: ["zones"],
  firms: ["zone", "industries"],
  targets: ["industry"],
  projects: ["firm", "zone"],
  facilities: ["zone"],
  services: [],
  indicators: ["zone"],
};

describe("the whole dataset", () => {
  for (const [name, relations] of Object.entries(resources)) {
    it(`serves every ${name} record as the contract says`, async () => {
      const include = relations.map((r) => `&include=${r}`).join("");
      const list = await checkedFetch(`/v1/${name}?limit=100&count=true${include}`);
      assert.equal(list.status, 200);
      const page = (await list.json()) as { items: { id: string }[]; total: number };
      assert.equal(page.items.length, page.total);
      for (const { id } of page.items) {
        const item = await checkedFetch(`/v1/${name}/${id}`);
        assert.equal(item.status, 200, `${name}/${id}`);
      }
      const csv = await checkedFetch(`/v1/${name}.csv?sort=name`);
      assert.equal(csv.status, 200);
      assert.match(csv.headers.get("content-type") ?? "", /^text\/csv/);
      assert.ok((await csv.text()).startsWith("id,name"));
    });
  }
});
