// The front-end door: types generated from openapi.yaml (openapi-typescript), called through a bare openapi-fetch client.
import createClient, { type Middleware } from "openapi-fetch";
import type { paths } from "./generated/hubapi.js";

/** Where the tests send requests: Prism's validation proxy in front of the live service. */
export const baseUrl = process.env.HUBAPI_URL ?? "http://127.0.0.1:4010";
/** An API key with the write scope (the service's admin key in the tests). */
export const apiKey = process.env.HUBAPI_KEY ?? "";

/**
 * Prism answers a request or response that breaks the contract with its own problem (422 or 500, type under
 * stoplight.io/prism/errors) and reports lesser violations in `sl-violations`: either fails the calling test.
 */
export async function assertKeepsContract(method: string, url: string, response: Response): Promise<void> {
  const violations = response.headers.get("sl-violations");
  if (violations) throw new Error(`${method} ${url} breaks the contract: ${violations}`);
  if (response.headers.get("content-type")?.includes("problem+json")) {
    const problem = (await response.clone().json()) as { type?: string };
    if (problem.type?.includes("stoplight.io/prism"))
      throw new Error(`${method} ${url} breaks the contract: ${JSON.stringify(problem)}`);
  }
}

/** Plain fetch through Prism, for requests a loop builds (every resource), with the same check. */
export async function checkedFetch(path: string, init: RequestInit = {}): Promise<Response> {
  const url = new URL(path, baseUrl).toString();
  const response = await fetch(url, init);
  await assertKeepsContract(init.method ?? "GET", url, response);
  return response;
}

/** A client as openapi-fetch's README makes one; the contract check and the key are middleware added after. */
export function hubClient(options: { key?: string } = {}) {
  const client = createClient<paths>({ baseUrl });
  client.use({
    async onResponse({ request, response }) {
      await assertKeepsContract(request.method, request.url, response);
      return undefined;
    },
  } satisfies Middleware);
  const key = options.key;
  if (key) client.use({ onRequest: ({ request }) => { request.headers.set("X-Api-Key", key); return request; } });
  return client;
}
