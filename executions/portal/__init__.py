"""The portal (web process): server-rendered pages, the page's HTML stream over SSE, the presenters
(the wire model with labels) and the forms."""
