// The dashboard's built assets (web/dist), with the SPA fallback so `/executions/<id>` loads the app.
// Until the dashboard is built, a small page says so and points at the API.
import { existsSync, statSync } from "node:fs";
import { join, resolve, sep } from "node:path";

const PLACEHOLDER = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>stagecast</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 3rem auto">
<h1>stagecast</h1>
<p>The dashboard is not built yet. The server is running: try the API.</p>
<ul>
<li><a href="/api/health">/api/health</a></li>
<li><a href="/api/pipelines">/api/pipelines</a></li>
<li><a href="/api/executions">/api/executions</a></li>
</ul>
<p>WebSocket: <code>/ws</code></p>
</body></html>
`;

function fileIn(root: string, pathname: string): string | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return null;
  }
  const full = resolve(root, `.${decoded}`);
  // Nothing outside the assets folder, whatever `..` or encoded slashes the path carries.
  if (full !== root && !full.startsWith(root + sep)) return null;
  try {
    return statSync(full).isFile() ? full : null;
  } catch {
    return null;
  }
}

export async function serveStatic(pathname: string, webDir: string | undefined): Promise<Response> {
  const html = { "content-type": "text/html; charset=utf-8" };
  if (!webDir || !existsSync(join(webDir, "index.html"))) return new Response(PLACEHOLDER, { headers: html });
  const root = resolve(webDir);
  const file = pathname === "/" ? null : fileIn(root, pathname);
  if (file) return new Response(Bun.file(file));
  // A path that looks like a file (has an extension) and is missing is a real 404, not the app.
  if (/\.[a-z0-9]+$/i.test(pathname)) return new Response("not found", { status: 404 });
  return new Response(Bun.file(join(root, "index.html")), { headers: html });
}
