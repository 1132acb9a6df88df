"""The reproduced papers: how each runs, which published numbers it compares with, and how it
writes its CSV and notes."""
