"""The reproduced papers, one module each (with its conf/experiment/paper_* and its baselines/
file), every reproduction listed once, here: scripts/reproduce.py's commands, the nightly's
reproductions and the sections of reproductions.html all read REPRODUCTIONS, in this order."""

from bench.papers import atex, cnn_inte, flint, imn
from bench.papers.reproduction import Launch, Option, Reproduction

REPRODUCTIONS: tuple[Reproduction, ...] = (imn.TABLE8, imn.TABLE3, flint.TABLE1, atex.FIGURE, cnn_inte.CLAIM)

__all__ = ["REPRODUCTIONS", "Launch", "Option", "Reproduction"]
