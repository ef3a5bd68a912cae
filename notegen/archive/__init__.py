"""Stage 4: the rendered note kept and vouched for. PAdES signatures
(:mod:`.signing`), verification of a PDF against its embedded records
(:mod:`.verify`), and the register of issued notes (:mod:`.register`)."""
