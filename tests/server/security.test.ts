// Token, Host and Origin checks, body limits, and bad input on REST and /ws: each case one assertion
// on the exact status and error code, and nothing running is disturbed.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startServer } from "../../src/server/server.ts";
import { type Harness, isFinal, setup, stageText } from "./harness.ts";

const EVIL = "http://evil.example";

async function errorOf(res: Response): Promise<[number, string]> {
  const body = (await res.json()) as { error: { code: string; message: string } };
  return [res.status, body.error.code];
}

describe("binding", () => {
  test("a non-loopback host without a token refuses to start", async () => {
    const dir = await mkdtemp(join(tmpdir(), "stagecast-sec-"));
    await expect(startServer({ port: 0, host: "0.0.0.0", dataDir: join(dir, "d"), cwd: dir })).rejects.toThrow(
      "refusing to listen on 0.0.0.0: a non-loopback host needs a token (--token or STAGECAST_TOKEN)",
    );
    await rm(dir, { recursive: true, force: true });
  });
});

describe("with a token", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await setup({ token: "s3cret-token", allowOrigins: ["http://trusted.example"] });
  });
  afterAll(() => h.close());
  const bare = (path: string, init?: RequestInit) => fetch(`${h.base}${path}`, init);

  test("a request without the token is 401", async () => {
    expect(await errorOf(await bare("/api/health"))).toEqual([401, "unauthorized"]);
  });
  test("a wrong token is 401", async () => {
    expect(await errorOf(await bare("/api/health", { headers: { authorization: "Bearer nope" } }))).toEqual([401, "unauthorized"]);
  });
  test("the bearer token is accepted", async () => {
    expect(await (await h.api("/api/health")).json()).toEqual({ ok: true });
  });
  test("the dashboard page needs the token too", async () => {
    expect((await bare("/")).status).toBe(401);
  });
  test("?token= on a page load sets an HttpOnly cookie that then authorizes", async () => {
    const res = await bare("/?token=s3cret-token");
    const cookie = res.headers.get("set-cookie")!.split(";")[0]!;
    expect((await bare("/api/health", { headers: { cookie } })).status).toBe(200);
  });
  test("/ws without the token is 401", async () => {
    expect((await bare("/ws", { headers: { upgrade: "websocket" } })).status).toBe(401);
  });
  test("/ws with ?token= opens", async () => {
    const c = await h.ws();
    expect(await c.request({ type: "ping" }, () => true)).toEqual({ type: "pong" });
  });
  test("a CORS preflight from an allowed origin is answered for it", async () => {
    const res = await bare("/api/pipelines/one/run", { method: "OPTIONS", headers: { origin: "http://trusted.example" } });
    expect([res.status, res.headers.get("access-control-allow-origin")]).toEqual([204, "http://trusted.example"]);
  });
  test("a CORS preflight from a foreign origin gets no CORS grant", async () => {
    const res = await bare("/api/pipelines/one/run", { method: "OPTIONS", headers: { origin: EVIL } });
    expect([res.status, res.headers.get("access-control-allow-origin")]).toEqual([401, null]);
  });
  test("--allow-origin admits that origin on a state-changing route", async () => {
    const res = await h.api("/api/pipelines/one/run", {
      method: "POST",
      headers: { origin: "http://trusted.example", "content-type": "application/json" },
      body: JSON.stringify({ input: "x" }),
    });
    expect(res.status).toBe(202);
  });
});

describe("without a token (loopback)", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await setup({ maxBodyBytes: 1024 });
  });
  afterAll(() => h.close());
  const post = (path: string, body: BodyInit, headers: Record<string, string> = { "content-type": "application/json" }) =>
    h.api(path, { method: "POST", body, headers });

  test("a foreign Origin on a state-changing route is 403", async () => {
    const res = await post("/api/pipelines/one/run", '{"input":"x"}', { origin: EVIL, "content-type": "application/json" });
    expect(await errorOf(res)).toEqual([403, "forbidden_origin"]);
  });
  test("a same-origin POST is accepted", async () => {
    const res = await post("/api/pipelines/one/run", '{"input":"x"}', { origin: h.base, "content-type": "application/json" });
    expect(res.status).toBe(202);
  });
  test("a foreign Origin on /ws is 403", async () => {
    expect((await h.api("/ws", { headers: { origin: EVIL, upgrade: "websocket" } })).status).toBe(403);
  });
  test("a request addressed to a foreign Host (DNS rebinding) is 403", async () => {
    const res = await h.server.server.fetch(new Request(`${h.base}/api/health`, { headers: { host: "evil.example" } }));
    expect(await errorOf(res)).toEqual([403, "forbidden_host"]);
  });
  test("a POST that is not application/json is 415", async () => {
    expect(await errorOf(await post("/api/pipelines/one/run", '{"input":"x"}', { "content-type": "text/plain" }))).toEqual([
      415,
      "unsupported_media_type",
    ]);
  });
  test("a body past the limit is 413", async () => {
    expect(await errorOf(await post("/api/pipelines/one/run", JSON.stringify({ input: "x".repeat(2000) })))).toEqual([413, "body_too_large"]);
  });
  test("a body past even the transport's own bound is still the JSON 413", async () => {
    expect(await errorOf(await post("/api/pipelines/one/run", JSON.stringify({ input: "x".repeat(3 * 1024 * 1024) })))).toEqual([
      413,
      "body_too_large",
    ]);
  });
  test("malformed JSON is 400 bad_json", async () => {
    expect(await errorOf(await post("/api/pipelines/one/run", "{input:"))).toEqual([400, "bad_json"]);
  });
  test("a body without input is 400", async () => {
    const res = await post("/api/pipelines/one/run", "{}");
    expect((await res.json()) as unknown).toEqual({ error: { code: "bad_request", message: "input: input must be a string" } });
  });
  test("a tool outside the allow-list is 400", async () => {
    expect(await errorOf(await post("/api/pipelines/one/run", '{"input":"x","tool":"command"}'))).toEqual([400, "bad_request"]);
  });
  test("an unknown pipeline is 404", async () => {
    expect(await errorOf(await post("/api/pipelines/nope/run", '{"input":"x"}'))).toEqual([404, "pipeline_not_found"]);
  });
  test("a pipeline id that is a path is 404, never a file read", async () => {
    expect(await errorOf(await h.api("/api/pipelines/..%2F..%2Fetc%2Fpasswd"))).toEqual([404, "pipeline_not_found"]);
  });
  test("running an invalid pipeline is 400 with its problems", async () => {
    expect(await errorOf(await post("/api/pipelines/broken/run", '{"input":"x"}'))).toEqual([400, "invalid_pipeline"]);
  });
  test("an unknown execution is 404", async () => {
    expect(await errorOf(await h.api("/api/executions/no-such-id"))).toEqual([404, "execution_not_found"]);
  });
  test("an unknown stage is 404", async () => {
    const id = await h.run("one", "x");
    await h.server.manager.whenDone(id);
    expect(await errorOf(await h.api(`/api/executions/${id}/stages/nope/output`))).toEqual([404, "stage_not_found"]);
  });
  test("cancelling an unknown execution is 404", async () => {
    expect(await errorOf(await post("/api/executions/nope/cancel", ""))).toEqual([404, "execution_not_found"]);
  });
  test("a wrong method is 405 with Allow", async () => {
    const res = await h.api("/api/executions", { method: "DELETE" });
    expect([res.status, res.headers.get("allow")]).toEqual([405, "GET"]);
  });
  test("GET on the run route is 405", async () => {
    expect(await errorOf(await h.api("/api/pipelines/one/run"))).toEqual([405, "method_not_allowed"]);
  });
  test("an unknown status filter is 400", async () => {
    expect(await errorOf(await h.api("/api/executions?status=bogus"))).toEqual([400, "bad_query"]);
  });
  test("a bad limit is 400", async () => {
    expect(await errorOf(await h.api("/api/executions?limit=0"))).toEqual([400, "bad_query"]);
  });
  test("an unknown /api route is 404 JSON, not the page", async () => {
    const res = await h.api("/api/nope");
    expect([res.headers.get("content-type"), ...(await errorOf(res))]).toEqual(["application/json;charset=utf-8", 404, "not_found"]);
  });
  test("an app URL serves the page (SPA fallback)", async () => {
    const res = await h.api("/executions/some-id");
    expect([res.status, res.headers.get("content-type")]).toEqual([200, "text/html; charset=utf-8"]);
  });

  test("bad WebSocket messages get specific errors; the socket stays open and the run is undisturbed", async () => {
    const { createGate } = await import("../helpers/fake-openai.ts");
    const gate = createGate();
    h.fake.enqueue({ kind: "stream", chunks: ["steady ", "text"], gate });
    const id = await h.run("one", "x");
    const watcher = await h.ws();
    watcher.send({ type: "subscribe", executionId: id });
    const c = await h.ws();
    const reply = (msg: unknown) => c.request(msg, () => true);
    expect(await reply("{not json")).toMatchObject({ type: "error", code: "bad_json" });
    expect(await reply({ type: "explode" })).toMatchObject({ type: "error", code: "unknown_type" });
    expect(await reply({ type: "subscribe" })).toMatchObject({ type: "error", code: "bad_message" });
    expect(await reply({ type: "subscribe", executionId: id, since: -1 })).toMatchObject({ type: "error", code: "bad_message" });
    expect(await reply({ type: "subscribe", executionId: "nope" })).toMatchObject({ type: "error", code: "execution_not_found" });
    expect(await reply({ type: "unsubscribe", executionId: id })).toMatchObject({ type: "error", code: "not_subscribed" });
    expect(await reply({ type: "ping" })).toEqual({ type: "pong" });
    gate.release(2);
    const final = await watcher.waitFor(isFinal(id));
    expect([final.type, stageText(watcher.events(id), "write")]).toEqual(["execution:completed", "steady text"]);
  });

  test("API keys never appear in responses or events", async () => {
    const key = "sk-test-NEVER-SHOW-THIS-1234567890";
    const saved = process.env.OPENAI_API_KEY;
    process.env.OPENAI_API_KEY = key;
    try {
      // Some services quote the key they were given in their error message.
      h.fake.enqueue({ kind: "http-error", status: 401, message: `Incorrect API key provided: ${key}` });
      const c = await h.ws();
      const id = await h.run("one", "x");
      c.send({ type: "subscribe", executionId: id });
      await c.waitFor(isFinal(id));
      await h.server.manager.whenDone(id);
      const auth = h.fake.modelRequests.at(-1)!.headers.authorization;
      const everything = [
        JSON.stringify(c.messages),
        await (await h.api(`/api/executions/${id}`)).text(),
        await (await h.api("/api/executions")).text(),
        await (await h.api("/api/pipelines/one")).text(),
        ...Array.from(new Bun.Glob("results/*.json").scanSync(h.dataDir)).map((f) => readFileSync(join(h.dataDir, f), "utf8")),
      ].join("\n");
      const failed = c.events(id).find((e) => e.type === "stage:failed");
      expect([auth, everything.includes(key), failed?.type === "stage:failed" && failed.error.includes("*".repeat(key.length))]).toEqual([
        `Bearer ${key}`,
        false,
        true,
      ]);
    } finally {
      if (saved === undefined) delete process.env.OPENAI_API_KEY;
      else process.env.OPENAI_API_KEY = saved;
    }
  });
});
