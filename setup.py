"""What pyproject.toml cannot say: the packages are bench's own plus the top-level folders that
ship inside it, which a TOML `packages` list could add only by listing every subpackage again.
conf/ stays the one home of the Hydra configs (DESIGN.md's layout); installed, it is bench.conf."""

from setuptools import find_packages, setup

# package -> folder: read through bench.core.paths (CONF_PACKAGE, SHIPPED_ROOT) from a checkout and
# from an installed wheel alike. datasets/ and baselines/ get no __init__.py (DESIGN.md: a package
# named `datasets` would shadow the library of that name when run from the project root); bench
# reads them as files, never imports them.
SHIPPED = {"bench.conf": "conf", "bench.datasets": "datasets", "bench.baselines": "baselines"}

setup(
    packages=[*find_packages(include=["bench*"]), *SHIPPED],
    package_dir=SHIPPED,
    package_data={"bench.conf": ["**/*.yaml"], "bench.datasets": ["*.csv"], "bench.baselines": ["*.csv"]},
    # Only the files above: setuptools would otherwise take conf/'s subfolders for packages it
    # was not told about, and warn about each.
    include_package_data=False,
)
