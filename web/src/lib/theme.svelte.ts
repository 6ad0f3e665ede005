// Light or dark: follows prefers-color-scheme until the user picks one, which is kept in localStorage.
const KEY = "stagecast-theme";
type Choice = "light" | "dark";

class Theme {
  #choice = $state<Choice | null>(read());
  #prefersDark = $state(matchMedia("(prefers-color-scheme: dark)").matches);
  #effective = $derived<Choice>(this.#choice ?? (this.#prefersDark ? "dark" : "light"));

  constructor() {
    matchMedia("(prefers-color-scheme: dark)").addEventListener("change", (e) => (this.#prefersDark = e.matches));
  }

  get effective(): Choice {
    return this.#effective;
  }

  toggle(): void {
    const next: Choice = this.#effective === "dark" ? "light" : "dark";
    this.#choice = next;
    document.documentElement.dataset.theme = next;
    try {
      localStorage.setItem(KEY, next);
    } catch {
      // storage refused (private mode): the choice lasts for this page only
    }
  }
}

function read(): Choice | null {
  try {
    const v = localStorage.getItem(KEY);
    return v === "light" || v === "dark" ? v : null;
  } catch {
    return null;
  }
}

export const theme = new Theme();
