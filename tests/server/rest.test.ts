// The REST routes: pipelines (invalid ones listed with their errors), snapshots with the 100 KB
// output tail, the full-output route, the execution list, and the result file.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EventLog } from "../../src/server/event-log.ts";
import { type Harness, isFinal, setup, stageText } from "./harness.ts";

let h: Harness;
beforeAll(async () => {
  h = await setup({ executorOptions: { retryBaseDelayMs: 0 } });
});
afterAll(() => h.close());

const json = async (path: string) => (await (await h.api(path)).json()) as any;

describe("pipelines", () => {
  test("the list has built-ins and local pipelines; an invalid file is listed with its errors", async () => {
    const { pipelines } = await json("/api/pipelines");
    const local = pipelines.filter((p: any) => !p.builtin).map((p: any) => [p.id, p.valid, p.stageCount]);
    expect(local).toEqual([
      ["broken", false, 0],
      ["one", true, 1],
      ["retry", true, 1],
      ["two", true, 2],
    ]);
    const broken = pipelines.find((p: any) => p.id === "broken");
    expect(broken.issues).toEqual([{ path: "stages", message: "a pipeline needs at least one stage" }]);
  });
  test("one pipeline comes with its validated config", async () => {
    const p = await json("/api/pipelines/two");
    expect([p.valid, p.config.stages.map((s: any) => s.id)]).toEqual([true, ["draft", "polish"]]);
  });
  test("an invalid pipeline comes with its errors and no config", async () => {
    const p = await json("/api/pipelines/broken");
    expect([p.valid, p.config, p.issues.length]).toEqual([false, null, 1]);
  });
  test("health", async () => {
    expect(await json("/api/health")).toEqual({ ok: true });
  });
});

describe("executions", () => {
  test("a snapshot holds at most 100 KB of output (the tail) while the full text stays readable", async () => {
    // 60 KB of ASCII in one stage, then 80 K two-byte characters (160 KB) in the next: the held
    // 102,400 bytes are the second stage's last 51,200 characters, and nothing of the first.
    const first = "a".repeat(60 * 1024);
    const second = "é".repeat(80 * 1024);
    const split = (s: string, n: number) => Array.from({ length: Math.ceil(s.length / n) }, (_, i) => s.slice(i * n, (i + 1) * n));
    h.fake.enqueue({ kind: "stream", chunks: split(first, 5000) }, { kind: "stream", chunks: split(second, 3000) });
    const c = await h.ws();
    const id = await h.run("two", "big");
    c.send({ type: "subscribe", executionId: id });
    await c.waitFor(isFinal(id));
    const live = await json(`/api/executions/${id}`);
    await h.server.manager.whenDone(id);
    const stored = await json(`/api/executions/${id}`); // rebuilt from the log, no longer in memory
    for (const snap of [live, stored]) {
      expect(snap.stages.map((s: any) => [s.id, s.status, s.outputLength, s.outputTruncated, s.output.length])).toEqual([
        ["draft", "completed", first.length, true, 0],
        ["polish", "completed", second.length, true, 51_200],
      ]);
      expect(snap.stages[1].output).toBe(second.slice(-51_200));
    }
    expect(await (await h.api(`/api/executions/${id}/stages/draft/output`)).text()).toBe(first);
    expect(await (await h.api(`/api/executions/${id}/stages/polish/output`)).text()).toBe(second);
  });

  test("a retried stage's snapshot and full output are its last attempt only", async () => {
    h.fake.enqueue({ kind: "cut", chunks: ["doomed ", "first try"] }, { kind: "stream", chunks: ["second ", "try"] });
    const c = await h.ws();
    const id = await h.run("retry", "again");
    c.send({ type: "subscribe", executionId: id });
    await c.waitFor(isFinal(id));
    await h.server.manager.whenDone(id);
    const types = c.events(id).map((e) => e.type);
    expect(types.filter((t) => t === "stage:retrying").length).toBe(1);
    // The first attempt did stream before it was voided (how much depends on coalescing timing).
    const first = stageText(c.events(id).slice(0, types.indexOf("stage:retrying")), "flaky");
    expect(first.length > 0 && "doomed first try".startsWith(first)).toBe(true);
    const snap = await json(`/api/executions/${id}`);
    expect([snap.status, snap.stages[0].output, snap.stages[0].outputLength]).toEqual(["success", "second try", 10]);
    expect(await (await h.api(`/api/executions/${id}/stages/flaky/output`)).text()).toBe("second try");
  });

  test("a finished execution's snapshot, list entry and result file", async () => {
    h.fake.enqueue({ kind: "stream", chunks: ["Hi ", "there"] });
    const id = await h.run("one", "greet");
    await h.server.manager.whenDone(id);
    const snap = await json(`/api/executions/${id}`);
    expect(Object.keys(snap).sort()).toEqual(
      ["createdAt", "endedAt", "error", "id", "input", "lastSeq", "pipelineId", "pipelineName", "stages", "startedAt", "status"].sort(),
    );
    expect([snap.status, snap.input, snap.pipelineId, snap.pipelineName, snap.lastSeq]).toEqual(["success", "greet", "one", "Pipeline one", 6]);
    const stage = snap.stages[0];
    expect([stage.id, stage.name, stage.type, stage.status, stage.output, stage.outputLength, stage.outputTruncated]).toEqual([
      "write",
      "write",
      "generate",
      "completed",
      "Hi there",
      8,
      false,
    ]);
    expect([typeof stage.startedAt, typeof stage.endedAt, stage.usage.outputTokens, stage.error]).toEqual(["number", "number", 2, null]);
    const { executions } = await json("/api/executions?status=success&limit=1");
    expect(executions.map((e: any) => [e.id, e.status, e.lastSeq])).toEqual([[id, "success", 6]]);
    const files = Array.from(new Bun.Glob("results/*.json").scanSync(h.dataDir));
    const mine = files.map((f) => JSON.parse(readFileSync(`${h.dataDir}/${f}`, "utf8"))).filter((r) => r.executionId === id);
    expect(mine.map((r) => [r.status, r.stages.write.output])).toEqual([["success", "Hi there"]]);
    expect(existsSync(`${h.dataDir}/stagecast.db`)).toBe(true);
  });

  test("a completed stage's snapshot carries its stage:completed result exactly; other stages carry none", async () => {
    h.fake.enqueue(
      { kind: "stream", chunks: ["Draft ", "text"], usage: { inputTokens: 21, outputTokens: 7 }, stopReason: "length" },
      { kind: "http-error", status: 400, message: "bad request for polish" },
    );
    const c = await h.ws();
    const id = await h.run("two", "results");
    c.send({ type: "subscribe", executionId: id });
    await c.waitFor(isFinal(id));
    await h.server.manager.whenDone(id);
    const completed = c.events(id).filter((e) => e.type === "stage:completed");
    expect(completed.map((e) => e.stage.id)).toEqual(["draft"]);
    const event = completed[0]!.result;
    const snap = await json(`/api/executions/${id}`);
    expect(snap.stages.map((s: any) => [s.id, s.status, "result" in s])).toEqual([
      ["draft", "completed", true],
      ["polish", "failed", false],
    ]);
    const result = snap.stages[0].result;
    expect(result).toEqual(event);
    // The figures a cold load needs, which the cost and usage columns alone do not give.
    expect(Object.keys(result).sort()).toEqual(
      ["attempts", "cost", "costEstimated", "costSource", "duration", "finishReason", "model", "provider", "status", "timeToFirstToken", "usage"],
    );
    expect([result.status, result.cost, result.costSource, result.usage, result.attempts, result.finishReason, result.provider, result.model]).toEqual([
      "completed",
      0,
      "unknown",
      { inputTokens: 21, outputTokens: 7 },
      1,
      "length",
      "openai-compatible",
      "fake",
    ]);
    expect(typeof result.timeToFirstToken).toBe("number");
  });
});

describe("the execution list: paging and filters, and each stage's model", () => {
  // A harness of its own, so the list holds exactly the executions made here.
  let l: Harness;
  const ids: string[] = [];
  beforeAll(async () => {
    l = await setup();
    for (const p of ["one", "two", "one"]) {
      const id = await l.run(p, `input for ${p}`);
      await l.server.manager.whenDone(id);
      ids.push(id);
    }
  });
  afterAll(() => l.close());
  const list = async (query: string) => {
    const res = await l.api(`/api/executions${query}`);
    return [res.status, (await res.json()) as any] as const;
  };
  const rows = (body: any) => body.executions.map((e: any) => [e.id, e.pipelineId, e.status]);

  test("without filters: every execution, newest first, with the total", async () => {
    const [status, body] = await list("");
    expect([status, body.total, rows(body)]).toEqual([
      200,
      3,
      [
        [ids[2], "one", "success"],
        [ids[1], "two", "success"],
        [ids[0], "one", "success"],
      ],
    ]);
  });
  test("pipelineId filters; total counts the matches, not the page", async () => {
    const [, body] = await list("?pipelineId=one&limit=1");
    expect([body.total, rows(body)]).toEqual([2, [[ids[2], "one", "success"]]]);
  });
  test("offset pages through, and combines with status and pipelineId", async () => {
    const [, second] = await list("?limit=1&offset=1");
    expect([second.total, rows(second)]).toEqual([3, [[ids[1], "two", "success"]]]);
    const [, filtered] = await list("?pipelineId=one&status=success&limit=1&offset=1");
    expect([filtered.total, rows(filtered)]).toEqual([2, [[ids[0], "one", "success"]]]);
    const [, past] = await list("?offset=3");
    expect([past.total, past.executions]).toEqual([3, []]);
    const [, none] = await list("?pipelineId=nope");
    expect([none.total, none.executions]).toEqual([0, []]);
  });
  test("bad values are 400 bad_query, saying which parameter and what it got", async () => {
    const cases: [string, string][] = [
      ["?offset=-1", 'offset must be a whole number 0 or more; got "-1"'],
      ["?offset=1.5", 'offset must be a whole number 0 or more; got "1.5"'],
      ["?offset=abc", 'offset must be a whole number 0 or more; got "abc"'],
      ["?limit=0", 'limit must be a whole number from 1 to 1000; got "0"'],
      ["?pipelineId=Bad%20Id", 'pipelineId must match [a-z0-9-]+; got "Bad Id"'],
    ];
    for (const [query, message] of cases) {
      expect([query, ...(await list(query))]).toEqual([query, 400, { error: { code: "bad_query", message } }]);
    }
  });
  test("a snapshot's stages carry the provider and model of the execution:started event", async () => {
    const res = await l.api(`/api/executions/${ids[1]}`);
    const snap = (await res.json()) as any;
    expect(snap.stages.map((s: any) => [s.id, s.provider, s.model])).toEqual([
      ["draft", "openai-compatible", "fake"],
      ["polish", "openai-compatible", "fake"],
    ]);
  });
});

test("a database made before stages carried provider, model and result opens, gains the columns and keeps its rows", async () => {
  const dir = await mkdtemp(join(tmpdir(), "stagecast-migrate-"));
  try {
    const old = new Database(join(dir, "stagecast.db"), { create: true });
    old.exec(`CREATE TABLE stages (
      execution_id TEXT NOT NULL, stage_id TEXT NOT NULL, idx INTEGER NOT NULL, name TEXT NOT NULL,
      type TEXT NOT NULL, status TEXT NOT NULL DEFAULT 'pending', started_at INTEGER, ended_at INTEGER,
      cost REAL, usage TEXT, error TEXT, reason TEXT, output_length INTEGER NOT NULL DEFAULT 0,
      PRIMARY KEY (execution_id, stage_id)) WITHOUT ROWID;
      INSERT INTO stages (execution_id, stage_id, idx, name, type) VALUES ('e1', 's1', 0, 'S1', 'generate');`);
    old.close();
    const log = new EventLog(dir);
    expect(log.getStages("e1").map((s) => [s.stage_id, s.name, s.provider, s.model, s.result])).toEqual([["s1", "S1", null, null, null]]);
    log.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
