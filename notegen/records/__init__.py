"""Stage 1: the records, read from YAML or JSON files with the place of every
value, validated one by one (:mod:`.models`) and as a whole case
(:mod:`.case`), and written back (:mod:`.dump`)."""
