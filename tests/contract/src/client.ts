// The front-end door: a typed client generated from openapi.yaml (openapi-typescript) and called through openapi-fetch.
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
async function assertKeepsContract(method: string, url: string, response: Response): Promise<void> {
  const violations = response.headers.get("sl-violations");
  if (violations) throw new Error(`${method} ${url} breaks the contract: ${violations}`);
  if (response.headers.get("content-type")?.includes("problem+json")) {
    const problem = (await response.clone().json()) as { type?: string };
    if (problem.type?.includes("stoplight.io/prism"))
      throw new Error(`${method} ${url} breaks the contract: ${JSON.stringify(problem)}`);
  }
}

const contractGuard: Middleware = {
  async onResponse({ request, response }) {
    await assertKeepsContract(request.method, request.url, response);
    return undefined;
  },
};

/** Plain fetch through Prism, for requests a loop builds (every resource, every media type), with the same guard. */
export async function checkedFetch(path: string, init: RequestInit = {}): Promise<Response> {
  const url = new URL(path, baseUrl).toString();
  const response = await fetch(url, init);
  await assertKeepsContract(init.method ?? "GET", url, response);
  return response;
}

/** JSON bodies and problems; collections also export CSV and NDJSON, which these calls do not ask for. */
type Json = "application/json" | "application/problem+json";

export function hubClient(options: { url?: string; key?: string } = {}) {
  const client = createClient<paths, Json>({
    baseUrl: options.url ?? baseUrl,
    // Lists are comma-separated (style form, explode false), as the document declares.
    querySerializer: { array: { style: "form", explode: false } },
    headers: options.key ? { "X-Api-Key": options.key } : {},
  });
  client.use(contractGuard);
  return client;
}

export type Schemas = import("./generated/hubapi.js").components["schemas"];
