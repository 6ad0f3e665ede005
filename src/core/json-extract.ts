// Finds the JSON in a model's answer. Models wrap JSON in prose and fences, and leave trailing
// commas, so JSON.parse on the whole text is not enough. No library does this string-aware
// search plus "truncated vs stray brace" distinction, hence the hand-written scanner.
import { OutputParseError } from "./errors.ts";

export interface Fence {
  lang: string;
  code: string;
  /** false when the answer ended inside the fence */
  closed: boolean;
}

/** Fenced code blocks (``` or ~~~, CommonMark-style: the closer is at least as long as the opener). */
export function findFences(text: string): Fence[] {
  const fences: Fence[] = [];
  const lines = text.split(/\r?\n/);
  let open: { marker: string; lang: string; body: string[] } | null = null;
  for (const line of lines) {
    if (open) {
      const close = /^ {0,3}(`{3,}|~{3,})\s*$/.exec(line);
      if (close && close[1]![0] === open.marker[0] && close[1]!.length >= open.marker.length) {
        fences.push({ lang: open.lang, code: open.body.join("\n"), closed: true });
        open = null;
      } else {
        open.body.push(line);
      }
      continue;
    }
    const start = /^ {0,3}(`{3,}|~{3,})\s*([^\s`]*)/.exec(line);
    if (start) open = { marker: start[1]!, lang: start[2]!.toLowerCase(), body: [] };
  }
  if (open) fences.push({ lang: open.lang, code: open.body.join("\n"), closed: false });
  return fences;
}

/** Drops commas that precede `}` or `]`, outside strings. */
export function removeTrailingCommas(s: string): string {
  let out = "";
  let inString = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (inString) {
      out += c;
      if (c === "\\") {
        out += s[i + 1] ?? "";
        i++;
      } else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    if (c === ",") {
      let j = i + 1;
      while (j < s.length && /\s/.test(s[j]!)) j++;
      if (s[j] === "}" || s[j] === "]") continue;
    }
    out += c;
  }
  return out;
}

type Parsed = { ok: true; value: unknown } | { ok: false; error: string };

function tryParse(s: string): Parsed {
  try {
    return { ok: true, value: JSON.parse(s) };
  } catch (err) {
    try {
      return { ok: true, value: JSON.parse(removeTrailingCommas(s)) };
    } catch {
      return { ok: false, error: err instanceof Error ? err.message : String(err) };
    }
  }
}

/**
 * From `start` (a `{` or `[`), the index of the matching closer; `-1` when the text ends first
 * (truncated), `-2` when a closer does not match (not JSON).
 */
function matchBrackets(text: string, start: number): number {
  const stack: string[] = [];
  let inString = false;
  for (let i = start; i < text.length; i++) {
    const c = text[i]!;
    if (inString) {
      if (c === "\\") i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    else if (c === "{") stack.push("}");
    else if (c === "[") stack.push("]");
    else if (c === "}" || c === "]") {
      if (stack.pop() !== c) return -2;
      if (stack.length === 0) return i;
    }
  }
  return -1;
}

/** Does an unclosed bracket at `i` start real JSON (cut off), or is it a stray brace in prose? */
function looksLikeJsonStart(text: string, i: number): boolean {
  const rest = text.slice(i + 1).trimStart();
  if (rest === "") return true;
  return text[i] === "{" ? /^["}]/.test(rest) : /^[{["\]\-\dtfn]/.test(rest);
}

/** `[1]` in prose is a citation more often than an answer: only used when nothing better is found. */
function isWeak(value: unknown): boolean {
  return Array.isArray(value) && value.every((v) => typeof v === "number");
}

export function excerpt(text: string, where: "start" | "end" = "start", max = 80): string {
  const flat = text.replace(/\s+/g, " ").trim();
  if (flat.length <= max) return JSON.stringify(flat);
  return where === "start" ? `${JSON.stringify(flat.slice(0, max))}…` : `…${JSON.stringify(flat.slice(-max))}`;
}

function scan(text: string): unknown {
  let weak: { value: unknown } | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c !== "{" && c !== "[") continue;
    const end = matchBrackets(text, i);
    if (end === -1) {
      if (weak === undefined && looksLikeJsonStart(text, i)) {
        throw new OutputParseError(`the JSON in the answer is incomplete (cut off at the end?): ${excerpt(text, "end")}`);
      }
      continue;
    }
    if (end === -2) continue;
    const parsed = tryParse(text.slice(i, end + 1));
    if (!parsed.ok) {
      i = end;
      continue;
    }
    if (!isWeak(parsed.value)) return parsed.value;
    weak ??= { value: parsed.value };
    i = end;
  }
  if (weak) return weak.value;
  throw new OutputParseError(`no JSON found in the answer: ${excerpt(text)}`);
}

/** The JSON value in a model's answer: the whole text, a fenced block (json first), or the first balanced `{…}`/`[…]`. */
export function extractJson(text: string): unknown {
  const trimmed = text.replace(/^\uFEFF/, "").trim();
  if (trimmed === "") throw new OutputParseError("expected JSON but the answer is empty");
  const whole = tryParse(trimmed);
  if (whole.ok) return whole.value;

  const fences = findFences(trimmed).filter((f) => f.closed);
  const ordered = [...fences.filter((f) => f.lang.startsWith("json")), ...fences.filter((f) => !f.lang.startsWith("json"))];
  let fenceError: string | undefined;
  for (const fence of ordered) {
    const body = fence.code.trim();
    if (body === "") continue;
    const parsed = tryParse(body);
    if (parsed.ok) return parsed.value;
    if (fence.lang.startsWith("json")) fenceError ??= parsed.error;
  }
  try {
    return scan(trimmed);
  } catch (err) {
    if (fenceError !== undefined && err instanceof OutputParseError && err.message.startsWith("no JSON")) {
      throw new OutputParseError(`the json block in the answer is not valid JSON (${fenceError}): ${excerpt(trimmed)}`);
    }
    throw err;
  }
}
