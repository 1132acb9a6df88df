"""An interpreter's scores live on the interpreter's entry, `<model>:g`, in new rows and old."""

from bench.results import ResultStore
from bench.results.entries import interpreter_entry
from bench.results.units import LoadUnit


def test_rows_stored_before_the_interpreter_had_its_own_fidelity_rows_are_read_on_its_entry(tmp_path):
    store = ResultStore(tmp_path)
    row = {"unit": "u", "status": "ok", "category": "fidelity", "value": 0.9}
    store.write(LoadUnit("suite", "dataset", "task-1"), [  # any unit: the rows are what is read back
        {**row, "model": "flint", "metric": "fidelity"},  # the old layout: g's score on f's row
        {**row, "model": "flint", "metric": "accuracy_change", "value": -0.01},
        {**row, "model": "cnn_inte:g", "metric": "fidelity"},  # the new layout stays as it is
        {**row, "model": "flint", "metric": "accuracy", "category": "prediction"},  # f's own score
        {**row, "model": "cnn", "metric": "surrogate_fidelity", "explainer": "lime_image"},  # an explanation's
    ])
    rows = store.read_all()
    assert list(zip(rows["model"], rows["metric"])) == [
        ("flint:g", "fidelity"), ("flint:g", "accuracy_change"), ("cnn_inte:g", "fidelity"), ("flint", "accuracy"),
        ("cnn", "surrogate_fidelity")]
    assert interpreter_entry("mlp_inte") == "mlp_inte:g"
