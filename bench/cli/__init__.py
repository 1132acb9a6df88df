"""The entry points' helpers: Hydra callbacks, the sweep's report and its workers' watchdog."""
