// Streaming Markdown: finished blocks are parsed once and their HTML kept; only the unfinished last block
// (the "tail") is lexed and rendered again as text arrives, so an append costs O(tail), not O(output).
import { Lexer, Parser, type MarkedOptions, type Token, type TokensList } from "marked";

/** HTML → safe HTML (DOMPurify in the browser). Injected so this module runs without a DOM. */
export type Sanitize = (html: string) => string;

export interface MarkdownUpdate {
  /** Blocks that became final with this append, in order; never re-emitted. */
  stableHtml: string[];
  /** The unfinished last block(s), rendered from scratch. */
  tailHtml: string;
}

// `breaks`: a single line break is a <br>, as GFM renders comments; model text is written line by line
// and would otherwise run its lines together.
const OPTIONS: MarkedOptions = { gfm: true, breaks: true, async: false };

type Links = TokensList["links"];

/**
 * A block is final once another non-blank block follows it: Markdown only lets the last block absorb
 * later text (a paragraph becoming a setext heading or table, a list gaining items, an open fence).
 * Known limit: a reference-style link used before its definition renders as text in a finished block.
 */
export class IncrementalMarkdown {
  #sanitize: Sanitize;
  /** text from the start of the unfinished tail to the end, line endings normalized */
  #tail = "";
  /** a "\r" at the end of the last chunk: maybe half of "\r\n" */
  #pendingCR = false;
  #links: Links = Object.create(null) as Links;

  constructor(sanitize: Sanitize) {
    this.#sanitize = sanitize;
  }

  append(text: string): MarkdownUpdate {
    let chunk = (this.#pendingCR ? "\r" : "") + text;
    this.#pendingCR = chunk.endsWith("\r");
    if (this.#pendingCR) chunk = chunk.slice(0, -1);
    this.#tail += chunk.replace(/\r\n?/g, "\n");
    // A held "\r" still ends a line visually; render it as one while waiting for the next chunk.
    const source = this.#pendingCR ? this.#tail + "\n" : this.#tail;

    const tokens = this.#lex(source);
    let last = tokens.length - 1;
    while (last >= 0 && (tokens[last] as Token).type === "space") last--;
    const stable: Token[] = [];
    let stableLength = 0;
    for (let i = 0; i < last; i++) {
      const token = tokens[i] as Token;
      stable.push(token);
      stableLength += token.raw.length;
    }
    // If the raws do not tile the source exactly, splitting would be unsafe: keep everything in the tail.
    const tiles = tokens.reduce((n, t) => n + t.raw.length, 0) === source.length;
    if (!tiles || stable.length === 0) return { stableHtml: [], tailHtml: this.#render(tokens) };

    this.#tail = this.#tail.slice(stableLength);
    // Only finished definitions are kept: one still being typed in the tail ("[d]: htt") is not final.
    for (const token of stable) {
      if (token.type === "def" && !(token.tag in this.#links)) this.#links[token.tag] = { href: token.href, title: token.title };
    }
    const stableHtml: string[] = [];
    for (const token of stable) {
      if (token.type === "space") continue;
      stableHtml.push(this.#render([token]));
    }
    return { stableHtml, tailHtml: this.#render(tokens.slice(stable.length)) };
  }

  /** Length of the unfinished tail: what the next append re-lexes. */
  get tailLength(): number {
    return this.#tail.length;
  }

  reset(): void {
    this.#tail = "";
    this.#pendingCR = false;
    this.#links = Object.create(null) as Links;
  }

  #lex(source: string): TokensList {
    const lexer = new Lexer(OPTIONS);
    // Definitions seen in finished blocks still resolve references in later blocks.
    Object.assign(lexer.tokens.links, this.#links);
    return lexer.lex(source);
  }

  #render(tokens: Token[]): string {
    if (tokens.length === 0) return "";
    const list = Object.assign(tokens.slice(), { links: { ...this.#links } }) as TokensList;
    return this.#sanitize(Parser.parse(list, OPTIONS) as string);
  }
}

/** Whole-text rendering with the same options: the reference the incremental output must equal. */
export function renderMarkdown(text: string, sanitize: Sanitize): string {
  return sanitize(Parser.parse(Lexer.lex(text, OPTIONS), OPTIONS) as string);
}
