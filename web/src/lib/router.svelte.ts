// History-API routing. Hand-written because the app has five fixed routes and one param: a
// 60-line matcher is smaller and clearer than a routing dependency and its conventions.
import { type Route, matchRoute } from "./route-match.ts";

export type { Route };

class Router {
  #url = $state.raw(new URL(location.href));
  #route = $derived(matchRoute(this.#url.pathname));

  constructor() {
    window.addEventListener("popstate", () => this.#sync());
    // Same-origin links become in-app navigations; modified clicks (new tab…) keep the browser's way.
    document.addEventListener("click", (ev) => {
      if (ev.defaultPrevented || ev.button !== 0 || ev.metaKey || ev.ctrlKey || ev.shiftKey || ev.altKey) return;
      const a = (ev.target as Element | null)?.closest?.("a");
      if (!a || a.target || a.hasAttribute("download") || a.origin !== location.origin) return;
      if (a.pathname.startsWith("/api/")) return;
      ev.preventDefault();
      this.navigate(a.pathname + a.search + a.hash);
    });
  }

  get route(): Route {
    return this.#route;
  }
  get pathname(): string {
    return this.#url.pathname;
  }
  get search(): URLSearchParams {
    return this.#url.searchParams;
  }

  navigate(href: string, opts: { replace?: boolean } = {}): void {
    const target = new URL(href, location.href);
    if (target.href === location.href) return;
    if (opts.replace) history.replaceState(null, "", target);
    else history.pushState(null, "", target);
    const samePage = target.pathname === this.#url.pathname;
    this.#sync();
    if (!samePage) window.scrollTo(0, 0);
  }

  #sync(): void {
    this.#url = new URL(location.href);
  }
}

export const router = new Router();
