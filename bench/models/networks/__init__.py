"""The torch side of the models: their networks (nn.Module subclasses) and the tensor maths they
train with, one module per model module, named after it (networks/flint.py serves
bench/models/flint.py; networks/residual.py the residual trunk of hyperlinear and TabResNet).

Every module here imports torch at its top; the model modules import from here, and torch
itself, only inside the methods that build, train or run a network (bench/models/training.py
imports torch inside its functions as well). So bench.models, whose classes, signatures and
options the typed Hydra schemas read, imports without torch: `python -m bench --help` and a
config error load none of it (tests/test_front_door.py). Nothing is re-exported here, so that
reading one network loads only its module.

A model pickled before a network moved here names the network's old module;
bench/results/store.py's MOVED_MODULES and MOVED_CLASSES map it to the new one."""
