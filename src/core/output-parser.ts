// Turns a stage's answer into its `data`, as its `output` spec asks:
//   text     → undefined (templates use `.output`)
//   markdown → { sections: { [heading]: body }, codeBlocks: [{ lang, code }] }
//   json     → the JSON value found in the answer (see json-extract.ts)
// `extract: [{name, path, required}]` adds `data[name]` = the value at `path` (read from the parsed
// value as written, so `0.title` works on an array). The data must be an object to hold those
// names, so an array or scalar answer is wrapped as `{ value: <answer> }` first. An extracted name
// wins over a key of the same name in the answer. A missing optional field becomes null (renders as
// "" in templates, and `exists: false` in conditions); a missing required one fails the stage.
import type { OutputSpec } from "../protocol/pipeline.ts";
import { OutputParseError } from "./errors.ts";
import { extractJson, findFences } from "./json-extract.ts";
import { describeMiss, splitPath, walk } from "./run-context.ts";

export { extractJson } from "./json-extract.ts";

export interface MarkdownData {
  sections: Record<string, string>;
  codeBlocks: { lang: string; code: string }[];
}

const HEADING = /^ {0,3}(#{1,6})[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$/;
const FENCE = /^ {0,3}(`{3,}|~{3,})/;

/**
 * Sections keyed by heading text; a section's body runs to the next heading of the same or a higher
 * level, so `sections.Review` includes its sub-sections. Text before the first heading is not a section.
 * A repeated heading gets " (2)", " (3)"… so no body is lost.
 */
export function parseMarkdown(text: string): MarkdownData {
  const lines = text.split(/\r?\n/);
  const headings: { line: number; level: number; title: string }[] = [];
  let fence: string | null = null;
  lines.forEach((line, i) => {
    const f = FENCE.exec(line);
    if (fence) {
      if (f && f[1]![0] === fence[0] && f[1]!.length >= fence.length && line.trim() === f[1]) fence = null;
      return;
    }
    if (f) {
      fence = f[1]!;
      return;
    }
    const h = HEADING.exec(line);
    if (h && h[2]!.trim() !== "") headings.push({ line: i, level: h[1]!.length, title: h[2]!.trim() });
  });
  const sections: Record<string, string> = {};
  headings.forEach((h, k) => {
    const next = headings.slice(k + 1).find((n) => n.level <= h.level);
    const body = lines.slice(h.line + 1, next ? next.line : lines.length).join("\n").trim();
    let key = h.title;
    for (let n = 2; Object.hasOwn(sections, key); n++) key = `${h.title} (${n})`;
    sections[key] = body;
  });
  const codeBlocks = findFences(text).map((f) => ({ lang: f.lang, code: f.code }));
  return { sections, codeBlocks };
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

function applyExtract(parsed: unknown, extract: NonNullable<OutputSpec["extract"]>): Record<string, unknown> {
  const data: Record<string, unknown> = isPlainObject(parsed) ? { ...parsed } : { value: parsed };
  for (const field of extract) {
    const segments = splitPath(field.path);
    const hit = walk(parsed, segments);
    if (hit.found && hit.value !== null) {
      data[field.name] = hit.value;
      continue;
    }
    if (field.required) {
      const miss = describeMiss(parsed, segments);
      const where = miss.depth === 0 ? "the answer" : segments.slice(0, miss.depth).join(".");
      throw new OutputParseError(`required field "${field.name}" (path ${field.path}) is missing from the answer; ${where} has ${miss.holds}`);
    }
    data[field.name] = null;
  }
  return data;
}

export function parseOutput(text: string, spec: OutputSpec | undefined): unknown {
  const format = spec?.format ?? "text";
  if (format === "text") return undefined;
  const parsed = format === "markdown" ? parseMarkdown(text) : extractJson(text);
  return spec?.extract && spec.extract.length > 0 ? applyExtract(parsed, spec.extract) : parsed;
}
