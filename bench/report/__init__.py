"""The readers: tables, leaderboard, statistics, plots and picture galleries, drawn from stored
rows and artifacts only."""
