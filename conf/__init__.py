# Makes conf/ the package bench.conf (setup.py maps it), so that the installed package carries
# its configs: Hydra's pkg:// source reads only a package with an __init__.py, and setuptools'
# editable install (`make setup`) maps only a folder that has one.
