// Builds the dashboard into web/dist once per test run, and only when it is missing or older than
// its sources, so the browser tests always see the current UI without paying for a build each file.
import { existsSync, readdirSync, statSync } from "node:fs";
import { join, resolve } from "node:path";

export const ROOT = resolve(import.meta.dir, "../..");
export const WEB_DIST = join(ROOT, "web/dist");
const SOURCES = ["web/src", "web/components", "web/index.html", "web/vite.config.ts", "src/protocol"];

function newestMtime(path: string): number {
  if (!existsSync(path)) return 0;
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = st.mtimeMs;
  for (const name of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, name)));
  return newest;
}

let building: Promise<string> | undefined;

export function ensureWebBuilt(): Promise<string> {
  building ??= (async () => {
    const index = join(WEB_DIST, "index.html");
    const sources = Math.max(...SOURCES.map((s) => newestMtime(join(ROOT, s))));
    if (existsSync(index) && statSync(index).mtimeMs >= sources) return WEB_DIST;
    const proc = Bun.spawn([process.execPath, "--bun", "vite", "build", "--config", "web/vite.config.ts", "--logLevel", "warn"], {
      cwd: ROOT,
      stdout: "pipe",
      stderr: "pipe",
    });
    const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
    if (code !== 0) throw new Error(`building the dashboard failed (exit ${code}):\n${out}${err}`);
    return WEB_DIST;
  })();
  return building;
}
