// Reload the preview page when notegen watch has rendered the note again.
"use strict";
const events = new EventSource("/events?since=" + document.body.dataset.version);
events.addEventListener("changed", () => window.location.reload());
