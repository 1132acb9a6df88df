"""Tabular preprocessing and local splits, on frames small enough to work out by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bench.data.preprocess import TabularPreprocessor
from bench.data.splits import local_splits, select_folds
from bench.core.errors import UnusableFold

# --- TabularPreprocessor: columns kept and dropped -----------------------------------------


def test_useless_columns_are_dropped_with_the_reason():
    n = 20
    X = pd.DataFrame({
        "const": np.full(n, 7.0),
        "mostly_missing": [1.0] + [np.nan] * (n - 1),  # 95% missing
        "id": pd.Series([f"id{i}" for i in range(n)], dtype="str"),
        "num": np.arange(n, dtype=float),
        "cat": pd.Series(["a", "b"] * (n // 2), dtype="str"),
    })
    pre = TabularPreprocessor().fit(X)
    assert pre.dropped_ == {
        "const": "constant",
        "mostly_missing": "missing in more than 90% of training rows",
        "id": "ID-like categorical (almost every value unique)",
    }
    assert pre.numeric_ == ["num"]
    assert pre.categorical_ == ["cat"]
    assert pre.feature_names_out_ == ["num", "cat_a", "cat_b"]


# --- TabularPreprocessor: fitted on the training part only ---------------------------------

def test_standardisation_uses_the_training_mean_and_std():
    # Training column: mean 1, population std 1.
    pre = TabularPreprocessor().fit(pd.DataFrame({"x": [0.0, 2.0, 0.0, 2.0]}))
    out = pre.transform(pd.DataFrame({"x": [1.0, 3.0, 5.0]}))
    np.testing.assert_array_equal(out, [[0.0], [2.0], [4.0]])


def test_missing_numerics_take_the_training_median():
    # Median 0 (the mean would be 4/3); imputed column [0, 0, 4, 0] has mean 1 and std sqrt(3).
    pre = TabularPreprocessor().fit(pd.DataFrame({"x": [0.0, 0.0, 4.0, np.nan]}))
    out = pre.transform(pd.DataFrame({"x": [np.nan]}))
    assert out[0, 0] == pytest.approx(-1 / np.sqrt(3))


def test_missing_categorical_values_are_their_own_category():
    pre = TabularPreprocessor().fit(pd.DataFrame({"c": pd.Series(["a", "b", None, "a"], dtype="str")}))
    assert pre.feature_names_out_ == ["c___missing__", "c_a", "c_b"]
    out = pre.transform(pd.DataFrame({"c": pd.Series([None, "b"], dtype="str")}))
    np.testing.assert_array_equal(out, [[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])


def test_unseen_category_encodes_as_all_zeros():
    pre = TabularPreprocessor().fit(pd.DataFrame({"c": pd.Series(["a", "b", "a", "b"], dtype="str")}))
    out = pre.transform(pd.DataFrame({"c": pd.Series(["z"], dtype="str")}))
    np.testing.assert_array_equal(out, [[0.0, 0.0]])


def test_one_hot_is_capped_and_rare_or_unseen_categories_share_the_infrequent_column():
    # 30 categories, 3 rows each: not ID-like, but more than the 5 columns allowed.
    X = pd.DataFrame({"c": pd.Series([f"v{i % 30}" for i in range(90)], dtype="str")})
    pre = TabularPreprocessor(max_categories=5).fit(X)
    assert len(pre.feature_names_out_) == 5
    assert pre.feature_names_out_[-1] == "c_infrequent_sklearn"
    np.testing.assert_array_equal(pre.transform(pd.DataFrame({"c": pd.Series(["unseen"], dtype="str")})),
                                  [[0.0, 0.0, 0.0, 0.0, 1.0]])


def test_boolean_and_string_columns_are_categorical_and_output_is_float32():
    X = pd.DataFrame({
        "flag": [True, False, True, False],
        "word": pd.Series(["x", "y", "x", "y"], dtype="str"),
        "num": [0.0, 1.0, 2.0, 3.0],
    })
    pre = TabularPreprocessor().fit(X)
    out = pre.transform(X)
    assert pre.categorical_ == ["flag", "word"]
    assert pre.numeric_ == ["num"]
    assert out.dtype == np.float32
    assert out.shape == (4, len(pre.feature_names_out_))
    assert pre.feature_names_out_ == ["num", "flag_False", "flag_True", "word_x", "word_y"]


def test_a_non_dataframe_is_refused():
    with pytest.raises(TypeError, match="ndarray"):
        TabularPreprocessor().fit(np.zeros((3, 2)))


# --- local_splits and select_folds ---------------------------------------------------------

@pytest.fixture
def labels() -> np.ndarray:
    return np.array([0] * 37 + [1] * 13)


def test_test_folds_keep_the_class_proportions(labels):
    splits = local_splits(labels, n_folds=5, seed=0, stratify=True)
    for split in splits:
        test = labels[split.test]
        assert len(test) == 10
        # 37 and 13 rows over 5 folds: 7.4 and 2.6 expected per fold.
        assert abs((test == 0).sum() - 7.4) <= 1
        assert abs((test == 1).sum() - 2.6) <= 1


def test_folds_partition_the_rows(labels):
    splits = local_splits(labels, n_folds=5, seed=0, stratify=True)
    np.testing.assert_array_equal(np.sort(np.concatenate([s.test for s in splits])), np.arange(50))
    for split in splits:
        np.testing.assert_array_equal(np.union1d(split.train, split.test), np.arange(50))
        assert np.intersect1d(split.train, split.test).size == 0
    assert [s.fold for s in splits] == [0, 1, 2, 3, 4]
    assert {s.kind for s in splits} == {"local"}


def test_the_seed_decides_the_split(labels):
    def tests(seed):
        return [s.test for s in local_splits(labels, n_folds=5, seed=seed, stratify=True)]

    assert all(np.array_equal(a, b) for a, b in zip(tests(0), tests(0), strict=True))
    assert not all(np.array_equal(a, b) for a, b in zip(tests(0), tests(1), strict=True))


@pytest.mark.parametrize(("folds", "expected"), [("all", [0, 1, 2]), ([2, 0], [2, 0]), (1, [1])])
def test_select_folds(folds, expected):
    assert select_folds([0, 1, 2], folds) == expected


def test_select_folds_names_the_missing_folds():
    with pytest.raises(ValueError, match=r"folds \[7, 9\]"):
        select_folds([0, 1, 2], [0, 7, 9])


# --- TabularPreprocessor: bad input and the authors' encodings -----------------------------

def test_infinite_numerics_count_as_missing():
    # inf is imputed with the median of the finite values (1), like NaN.
    pre = TabularPreprocessor().fit(pd.DataFrame({"x": [0.0, 1.0, 2.0, np.inf]}))
    out = pre.transform(pd.DataFrame({"x": [-np.inf, 1.0]}))
    assert np.isfinite(out).all()
    assert out[0, 0] == out[1, 0]


def test_all_categorical_columns_are_one_hot_encoded():
    X = pd.DataFrame({"a": pd.Series(["x", "y", "x", "y"], dtype="str"), "b": pd.Series(["u", "u", "v", "v"], dtype="str")})
    pre = TabularPreprocessor().fit(X)
    np.testing.assert_array_equal(pre.transform(X), [[1, 0, 1, 0], [0, 1, 1, 0], [1, 0, 0, 1], [0, 1, 0, 1]])


def test_all_missing_columns_leave_nothing_and_say_so():
    X = pd.DataFrame({"a": [np.nan] * 4, "b": [np.inf, np.nan, -np.inf, np.nan]})
    with pytest.raises(ValueError, match="every column was dropped"):
        TabularPreprocessor().fit(X)


def test_too_many_one_hot_columns_are_refused_with_the_options_that_help():
    X = pd.DataFrame({f"c{j}": pd.Series([f"v{i % 5}" for i in range(20)], dtype="str") for j in range(3)})
    with pytest.raises(ValueError, match=r"makes 15 columns, more than data.preprocess.max_onehot_columns=10.*"
                                         r"categorical_encoding=authors"):
        TabularPreprocessor(max_onehot_columns=10).fit(X)


def test_authors_encoding_is_ordinal_for_multiclass_tasks():
    X = pd.DataFrame({"c": pd.Series(["b", "a", "c", "a"], dtype="str")})
    pre = TabularPreprocessor(categorical_encoding="authors").fit(X, np.array([0, 1, 2, 0]))
    out = pre.transform(pd.DataFrame({"c": pd.Series(["a", "b", "c"], dtype="str")}))[:, 0]
    assert pre.feature_names_out_ == ["c"]
    assert out[0] < out[1] < out[2]  # codes 0, 1, 2, standardised


def test_authors_encoding_is_the_target_mean_for_binary_tasks():
    # "a" always has label 1 and "b" never: a's encoding exceeds b's (both shrunk to the prior).
    X = pd.DataFrame({"c": pd.Series(["a", "b"] * 10, dtype="str")})
    pre = TabularPreprocessor(categorical_encoding="authors").fit(X, np.array([1, 0] * 10))
    a, b = pre.transform(pd.DataFrame({"c": pd.Series(["a", "b"], dtype="str")}))[:, 0]
    assert a > 0 > b


def test_unknown_categorical_encoding_is_refused():
    with pytest.raises(ValueError, match="categorical_encoding must be one of"):
        TabularPreprocessor(categorical_encoding="hashing")


def test_training_rows_get_cross_fitted_target_codes_so_their_own_label_does_not_leak():
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"c": pd.Series([f"v{i}" for i in rng.integers(0, 30, 200)], dtype="str")})
    y = rng.integers(0, 2, 200)  # noise: the category says nothing about the label
    pre = TabularPreprocessor(categorical_encoding="authors")
    train = pre.fit_transform(X, y)[:, 0]
    in_sample = pre.transform(X)[:, 0]
    # In-sample codes carry each row's own label; cross-fitted ones do not.
    assert np.corrcoef(in_sample, y)[0, 1] > np.corrcoef(train, y)[0, 1] + 0.1


def test_one_hot_training_rows_are_encoded_as_any_other_rows():
    X = pd.DataFrame({"c": pd.Series(["a", "b", "a", "c"], dtype="str"), "x": [1.0, 2.0, 3.0, 4.0]})
    pre = TabularPreprocessor()
    np.testing.assert_array_equal(pre.fit_transform(X), pre.transform(X))


def test_each_encoded_column_names_the_original_column_it_encodes():
    X = pd.DataFrame({
        "colour": pd.Series(["red"] * 6 + ["blue"] * 6 + ["green", "pink"], dtype="str"),  # 2 rare -> infrequent
        "size": np.arange(14, dtype=float),
        "size_x": pd.Series(["s", "m"] * 7, dtype="str"),  # a name that prefixes nothing in particular
    })
    pre = TabularPreprocessor(max_categories=3).fit(X)
    encoded = pre.transform(X)
    assert pre.source_columns_ == ["size", "colour", "colour", "colour", "size_x", "size_x"]
    assert encoded.shape[1] == len(pre.source_columns_)
    # Each one-hot group has exactly one 1 per row: summing a group gives back one column.
    groups = np.array(pre.source_columns_)
    np.testing.assert_array_equal(encoded[:, groups == "colour"].sum(axis=1), 1)
    assert TabularPreprocessor(categorical_encoding="authors").fit(X, np.arange(14) % 2).source_columns_ == \
        ["size", "colour", "size_x"]


# --- TabularPreprocessor: what it does with missing cells, said or refused ------------------

def frame_with_missing_cells() -> pd.DataFrame:
    return pd.DataFrame({
        "a": [1.0, np.nan, np.inf, 4.0, -np.inf, 6.0],
        "b": ["x", None, "y", "x", "y", "x"],
        "c": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
        "gone": [np.nan] * 6,  # dropped (missing everywhere): nothing of it is imputed
    })


def test_the_missing_cells_it_fills_in_are_counted_per_column_infinities_apart():
    X = frame_with_missing_cells()
    assert TabularPreprocessor().describe_missing(X) == (
        "4 missing cell(s) (a: 3, 2 of them inf; b: 1) filled in: numeric ones with the training part's median, "
        "categorical ones as a category of their own (data.preprocess.missing=refuse refuses such data instead)")
    assert TabularPreprocessor().describe_missing(X[["c"]]) is None
    assert TabularPreprocessor(missing="refuse").describe_missing(X).endswith(
        "refused (data.preprocess.missing=refuse; =impute fills them in)")


def test_missing_refuse_refuses_a_fold_with_missing_cells_and_takes_one_without():
    X = frame_with_missing_cells()
    with pytest.raises(UnusableFold, match=r"4 missing cell\(s\) \(a: 3, 2 of them inf; b: 1\), refused"):
        TabularPreprocessor(missing="refuse").fit_transform(X)
    clean = TabularPreprocessor(missing="refuse").fit(X[["c", "a"]].iloc[[0, 3, 5]])
    with pytest.raises(UnusableFold, match=r"1 missing cell\(s\) \(a: 1, 1 of them inf\)"):
        clean.transform(X[["c", "a"]].iloc[[2]])  # a test row is refused too
    with pytest.raises(ValueError, match="missing must be one of"):
        TabularPreprocessor(missing="drop")
