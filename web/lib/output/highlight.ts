// Search highlights via the CSS Custom Highlight API: Ranges over existing text nodes, so the output's
// DOM (and the raw view's exact textContent) is never altered by a search. Browser only.

const ALL = "sc-search";
const CURRENT = "sc-search-current";
const byOwner = new Map<string, { all: Range[]; current: Range | null }>();

/** Ranges for matches [start, start+length) in the concatenated text of `root`'s text nodes. */
export function rangesFor(root: Node, starts: readonly number[], length: number): Range[] {
  const ranges: Range[] = [];
  if (starts.length === 0 || length === 0) return ranges;
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  let node = walker.nextNode() as Text | null;
  let nodeStart = 0;
  const locate = (offset: number): [Text, number] | null => {
    while (node !== null && nodeStart + node.data.length < offset) {
      nodeStart += node.data.length;
      node = walker.nextNode() as Text | null;
    }
    return node === null ? null : [node, offset - nodeStart];
  };
  for (const start of starts) {
    // a start exactly at a node's end belongs to the next node
    while (node !== null && nodeStart + node.data.length <= start) {
      nodeStart += node.data.length;
      node = walker.nextNode() as Text | null;
    }
    const from = node === null ? null : ([node, start - nodeStart] as [Text, number]);
    const to = locate(start + length);
    if (from === null || to === null) break;
    const range = document.createRange();
    range.setStart(from[0], from[1]);
    range.setEnd(to[0], to[1]);
    ranges.push(range);
  }
  return ranges;
}

function supported(): boolean {
  return typeof CSS !== "undefined" && "highlights" in CSS && typeof Highlight !== "undefined";
}

/** Replaces the highlights of one output panel (`owner`); other panels keep theirs. */
export function setHighlights(owner: string, all: Range[], current: Range | null): void {
  if (all.length === 0 && current === null) byOwner.delete(owner);
  else byOwner.set(owner, { all, current });
  if (!supported()) return;
  const every: Range[] = [];
  const currents: Range[] = [];
  for (const h of byOwner.values()) {
    every.push(...h.all);
    if (h.current) currents.push(h.current);
  }
  CSS.highlights.set(ALL, new Highlight(...every));
  CSS.highlights.set(CURRENT, new Highlight(...currents));
}

/** Scrolls `scroller` (only it, never the page) so that `range` is in view. */
export function scrollRangeIntoView(scroller: HTMLElement, range: Range): void {
  const r = range.getBoundingClientRect();
  const s = scroller.getBoundingClientRect();
  if (r.top < s.top || r.bottom > s.bottom) scroller.scrollTop += r.top - s.top - s.height / 2;
  if (r.left < s.left || r.right > s.right) scroller.scrollLeft += r.left - s.left - s.width / 2;
}
