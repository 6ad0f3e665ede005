// The one HTML sanitizer of the output views (DOMPurify). Browser only: it needs a DOM.
import DOMPurify from "dompurify";

export function sanitizeHtml(html: string): string {
  return DOMPurify.sanitize(html, { USE_PROFILES: { html: true } });
}
