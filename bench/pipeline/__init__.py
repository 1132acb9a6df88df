"""The writer: compose the config, resolve it into a plan, then task -> split -> fit -> predict ->
explain -> score, recording every unit's rows through bench.results."""
