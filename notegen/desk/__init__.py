"""The drafting desk: the web page where a desk officer drafts, previews,
clears and issues a note, over a workspace of case files.

``workspace`` owns the files (listing, opening, round-trip saving with
conflict detection, scaffolding, the workspace's incidents); ``preview``
renders a draft warm and locates its problems by field; ``app`` is the web
face that ``notegen serve`` mounts at ``/``.
"""
