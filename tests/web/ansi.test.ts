import { describe, expect, test } from "bun:test";
import { AnsiStream, hasAnsi, stripAnsi } from "../../web/lib/output/ansi.ts";

describe("AnsiStream", () => {
  test("colours, bold and reset become classed spans; plain text stays plain", () => {
    const a = new AnsiStream();
    expect(a.push("plain \x1b[31mred\x1b[0m \x1b[1mbold\x1b[0m end")).toBe(
      'plain <span class="ansi-red-fg">red</span> <span style="font-weight:bold">bold</span> end',
    );
  });

  test("bright and background colours", () => {
    const a = new AnsiStream();
    expect(a.push("\x1b[92;44mok\x1b[0m")).toBe('<span class="ansi-bright-green-fg ansi-blue-bg">ok</span>');
  });

  test("HTML in the text is escaped", () => {
    expect(new AnsiStream().push('<script>alert("x")</script> & \x1b[33m<b>\x1b[0m')).toBe(
      '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; <span class="ansi-yellow-fg">&lt;b&gt;</span>',
    );
  });

  test("a code split across chunks is applied, not printed", () => {
    const a = new AnsiStream();
    expect(a.push("before \x1b[3")).toBe("before ");
    expect(a.push("2mgreen\x1b[")).toBe('<span class="ansi-green-fg">green</span>');
    expect(a.push("0m after")).toBe(" after");
  });

  test("the colour state carries over to the next chunk until reset", () => {
    const a = new AnsiStream();
    expect(a.push("\x1b[34mblue")).toBe('<span class="ansi-blue-fg">blue</span>');
    expect(a.push(" still")).toBe('<span class="ansi-blue-fg"> still</span>');
    expect(a.push("\x1b[0m plain")).toBe(" plain");
  });

  test("peek renders with the current state without consuming it", () => {
    const a = new AnsiStream();
    a.push("\x1b[31m");
    expect(a.peek("partial")).toBe('<span class="ansi-red-fg">partial</span>');
    expect(a.peek("\x1b[0mreset in peek")).toBe("reset in peek");
    expect(a.push("line")).toBe('<span class="ansi-red-fg">line</span>');
  });
});

describe("hasAnsi / stripAnsi", () => {
  test("detects escapes", () => {
    expect(hasAnsi("plain")).toBe(false);
    expect(hasAnsi("a\x1b[0m")).toBe(true);
  });
  test("strips CSI, OSC hyperlinks and two-character escapes", () => {
    expect(stripAnsi("\x1b[1;31merr\x1b[0m \x1b]8;;https://x.dev\x07link\x1b]8;;\x07 \x1bMdone")).toBe("err link done");
  });
});
