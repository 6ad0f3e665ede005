import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { IncrementalMarkdown, renderMarkdown } from "../../web/lib/output/incremental-markdown.ts";

const identity = (html: string) => html;

const DOCS = [
  "# Title\n\nSome *text* here\nand more.\n\n- a\n- b\n\n  continued\n- c\n\n```js\nconst x = 1;\n\n```\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\nPara\n===\n\n> quote\n> more\n\n1. one\n2. two\n\n---\n\nend <b>x</b>\n",
  "line one\r\nline two\r\n\r\n## h\r\n\r\n    code\r\n\r\nafter",
  "Intro paragraph.\n\n[d]: https://example.com/docs\n\n* [x] done\n* [ ] todo\n\nSee [the docs][d] and <https://example.com>.\n\n~~~\nfenced ~~~ inside\n~~~\ntrailing text with **bold\nacross lines**\n",
  "<div>\nraw html block\n</div>\n\nText after html.\n\n<!-- comment -->\n\nLast.",
  // plain model text: lines of about eight words with single line breaks, then a list and a quote wrapped the same way
  "The first line of the answer has eight words\nand the second line also has eight words\nthen it ends.\r\n\r\n- an item that\n  wraps\n- b\n\n> a quote\n> on two lines\n\nlast line\nafter a break",
];

/** Feeds `doc` in pieces cut at `cuts`; returns the concatenated HTML the viewer would show. */
function streamed(doc: string, cuts: number[]): { html: string; stableCount: number } {
  const md = new IncrementalMarkdown(identity);
  let stable = "";
  let tail = "";
  let stableCount = 0;
  let prev = 0;
  for (const cut of [...cuts, doc.length]) {
    const u = md.append(doc.slice(prev, cut));
    stable += u.stableHtml.join("");
    stableCount += u.stableHtml.length;
    tail = u.tailHtml;
    prev = cut;
  }
  return { html: stable + tail, stableCount };
}

describe("IncrementalMarkdown", () => {
  test("equals whole-text rendering for every single split point", () => {
    for (const doc of DOCS) {
      const whole = renderMarkdown(doc, identity);
      for (let i = 0; i <= doc.length; i++) expect(streamed(doc, [i]).html).toBe(whole);
    }
  });

  test("equals whole-text rendering for any set of split points", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...DOCS),
        fc.array(fc.nat(), { maxLength: 12 }),
        (doc, raw) => {
          const cuts = [...new Set(raw.map((n) => n % (doc.length + 1)))].sort((a, b) => a - b);
          expect(streamed(doc, cuts).html).toBe(renderMarkdown(doc, identity));
        },
      ),
      { numRuns: 400 },
    );
  });

  test("character by character: finished blocks are emitted once and the tail stays one block", () => {
    const doc = "# A\n\npara one\n\npara two\n\nlast";
    const md = new IncrementalMarkdown(identity);
    const stable: string[] = [];
    let tail = "";
    for (const ch of doc) {
      const u = md.append(ch);
      stable.push(...u.stableHtml);
      tail = u.tailHtml;
    }
    expect(stable).toEqual(["<h1>A</h1>\n", "<p>para one</p>\n", "<p>para two</p>\n"]);
    expect(tail).toBe("<p>last</p>\n");
  });

  test("single line breaks in model text render as <br> (GFM breaks), streamed and whole alike", () => {
    const doc = "The model wrote this first line of eight words\nand then a second line of eight words\nthen a third.\n\nA new paragraph.";
    const want =
      "<p>The model wrote this first line of eight words<br>and then a second line of eight words<br>then a third.</p>\n<p>A new paragraph.</p>\n";
    expect(renderMarkdown(doc, identity)).toBe(want);
    expect(streamed(doc, [47, 48, 80])).toEqual({ html: want, stableCount: 1 });
  });

  test("a line break arriving mid-paragraph becomes a <br> in the tail, including a CRLF split across chunks", () => {
    const md = new IncrementalMarkdown(identity);
    expect(md.append("one two\n")).toEqual({ stableHtml: [], tailHtml: "<p>one two</p>\n" });
    expect(md.append("three four")).toEqual({ stableHtml: [], tailHtml: "<p>one two<br>three four</p>\n" });
    expect(md.append("\r")).toEqual({ stableHtml: [], tailHtml: "<p>one two<br>three four</p>\n" });
    expect(md.append("\nfive")).toEqual({ stableHtml: [], tailHtml: "<p>one two<br>three four<br>five</p>\n" });
    expect(md.append("\n\nsix")).toEqual({ stableHtml: ["<p>one two<br>three four<br>five</p>\n"], tailHtml: "<p>six</p>\n" });
  });

  test("a paragraph that turns into a setext heading is still in the tail when it does", () => {
    const md = new IncrementalMarkdown(identity);
    expect(md.append("Title\n")).toEqual({ stableHtml: [], tailHtml: "<p>Title</p>\n" });
    expect(md.append("===\n")).toEqual({ stableHtml: [], tailHtml: "<h1>Title</h1>\n" });
    expect(md.append("\nnext")).toEqual({ stableHtml: ["<h1>Title</h1>\n"], tailHtml: "<p>next</p>\n" });
  });

  test("the sanitizer is applied to every HTML string handed out, finished blocks and tail alike", () => {
    const seen: string[] = [];
    const sanitize = (html: string) => {
      seen.push(html);
      return `[${html.length}]`;
    };
    const md = new IncrementalMarkdown(sanitize);
    const out: string[] = [];
    for (const piece of ["<img src=x onerror=alert(1)>\n\n", "<script>alert(2)</script>\n\nok ", "done"]) {
      const u = md.append(piece);
      out.push(...u.stableHtml, u.tailHtml);
    }
    // every string returned is a sanitizer result, never raw parser output
    for (const s of out) expect(s).toMatch(/^\[\d+\]$|^$/);
    expect(out.filter((s) => s !== "").length).toBe(seen.length);
    expect(seen.some((h) => h.includes("onerror"))).toBe(true);
    expect(seen.some((h) => h.includes("<script>"))).toBe(true);
  });

  test("known limit: a reference used before its definition stays text once its block is finished", () => {
    const doc = "See [docs][d].\n\nMiddle.\n\n[d]: https://example.com\n";
    expect(renderMarkdown(doc, identity)).toBe('<p>See <a href="https://example.com">docs</a>.</p>\n<p>Middle.</p>\n');
    expect(streamed(doc, [25]).html).toBe("<p>See [docs][d].</p>\n<p>Middle.</p>\n");
  });

  test("reset starts a new document", () => {
    const md = new IncrementalMarkdown(identity);
    md.append("# old\n\nstuff");
    md.reset();
    expect(md.append("new")).toEqual({ stableHtml: [], tailHtml: "<p>new</p>\n" });
  });
});
