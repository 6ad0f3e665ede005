// `stagecast web` as a user runs it (a child process, stopped with SIGTERM), and the built
// dashboard's assets with the SPA fallback.
import { afterEach, expect, test } from "bun:test";
import { mkdtemp, mkdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type RunningServer, startServer } from "../../src/server/server.ts";

const MAIN = join(import.meta.dir, "..", "..", "src", "cli", "main.ts");
let dir: string;
let server: RunningServer | undefined;
afterEach(async () => {
  await server?.stop();
  server = undefined;
  await rm(dir, { recursive: true, force: true });
});

test("stagecast web prints its URL, serves the API and stops cleanly on SIGTERM", async () => {
  dir = await mkdtemp(join(tmpdir(), "stagecast-web-"));
  const child = Bun.spawn(["bun", MAIN, "web", "--port", "0", "--data-dir", join(dir, "data")], {
    cwd: dir,
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, STAGECAST_TOKEN: "" },
  });
  const reader = child.stdout.getReader();
  let text = "";
  while (!/http:\/\/127\.0\.0\.1:\d+/.test(text)) {
    const { value, done } = await reader.read();
    if (done) break;
    text += new TextDecoder().decode(value);
  }
  const url = /http:\/\/127\.0\.0\.1:\d+/.exec(text)![0];
  expect(await (await fetch(`${url}/api/health`)).json()).toEqual({ ok: true });
  child.kill("SIGTERM");
  expect(await child.exited).toBe(0);
});

test("the built dashboard is served, with index.html for app URLs and 404 for missing files", async () => {
  dir = await mkdtemp(join(tmpdir(), "stagecast-web-"));
  const webDir = join(dir, "dist");
  await mkdir(join(webDir, "assets"), { recursive: true });
  await writeFile(join(webDir, "index.html"), "<!doctype html><title>app</title>");
  await writeFile(join(webDir, "assets", "app.js"), "console.log(1)");
  await writeFile(join(dir, "secret.txt"), "do not serve");
  server = await startServer({ port: 0, dataDir: join(dir, "data"), cwd: dir, webDir });
  const get = async (path: string) => {
    const res = await fetch(`${server!.url}${path}`);
    return [res.status, await res.text()];
  };
  expect(await get("/")).toEqual([200, "<!doctype html><title>app</title>"]);
  expect(await get("/executions/abc")).toEqual([200, "<!doctype html><title>app</title>"]);
  expect(await get("/assets/app.js")).toEqual([200, "console.log(1)"]);
  expect(await get("/assets/missing.js")).toEqual([404, "not found"]);
  expect(await get("/..%2Fsecret.txt")).toEqual([404, "not found"]);
});
