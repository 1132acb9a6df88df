"""The ground floor, below every other package: errors, file writing, paths, devices, versions,
image helpers, the Explanation type, torch helpers and model-call counting."""
