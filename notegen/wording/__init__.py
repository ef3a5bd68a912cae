"""Stage 2: the note put into words. The phrases of its language
(:mod:`.catalogue`), the legal bases it cites (:mod:`.legal`), the context a
template reads (:mod:`.context`) and those of the documents that go with it
(:mod:`.companions`), the checks of its form (:mod:`.lint`), all run by
:func:`.prepare.prepare`."""
