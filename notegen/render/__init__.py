"""Stage 3: the worded note laid out. Sandboxed Jinja to HTML (:mod:`.html`)
within bounds (:mod:`.limits`), WeasyPrint to PDF (:mod:`.pdf`) reading only
the template folders (:mod:`.fetcher`), files written whole or not at all
(:mod:`.atomic`), the démarche set (:mod:`.demarche`) and the tools a
ministry uses to make the templates its own (:mod:`.authoring`)."""
