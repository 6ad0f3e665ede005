// The dashboard's routes, matched from a pathname (pure: unit-tested without a browser).
export type Route =
  | { name: "pipelines" }
  | { name: "pipeline"; id: string }
  | { name: "execution"; id: string }
  | { name: "running" }
  | { name: "history" }
  | { name: "not-found"; path: string };

export function matchRoute(pathname: string): Route {
  const path = pathname.replace(/\/+$/, "") || "/";
  if (path === "/") return { name: "pipelines" };
  if (path === "/executions") return { name: "running" };
  if (path === "/history") return { name: "history" };
  const m = /^\/(pipelines|executions)\/([^/]+)$/.exec(path);
  if (m) {
    let id: string;
    try {
      id = decodeURIComponent(m[2] as string);
    } catch {
      return { name: "not-found", path };
    }
    return m[1] === "pipelines" ? { name: "pipeline", id } : { name: "execution", id };
  }
  return { name: "not-found", path };
}
