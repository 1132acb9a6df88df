"""Tabular preprocessing, fitted on the training part only (IMN's protocol, METHODS.md §1).

Drops constant columns, columns missing in more than `max_missing_fraction` of the training
rows and ID-like categoricals. Numerics: +-inf count as missing; median imputation, then
standardisation. Categoricals: missing values become their own category, then
- `categorical_encoding="one_hot"` (the paper): one column per category, capped at
  `max_categories` per feature: rarer categories share one "infrequent" column, and a category
  never seen in training encodes as that column, or as all zeros when there is none;
- `categorical_encoding="authors"` (the authors' code): target encoding for binary tasks,
  ordinal codes otherwise (unseen categories: -1), both then standardised like numerics.
One-hot encoding that would make more than `max_onehot_columns` columns is refused: a wide
tabular net would mostly learn noise, and the fix is an option away. `missing="refuse"` refuses
data with a missing (or infinite) cell in a column it keeps, instead of filling it in; the run
says what was filled in either way (`describe_missing`).
"""

from __future__ import annotations

from typing import Literal, get_args

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler, TargetEncoder

from bench.core.errors import UnusableFold

MISSING_CATEGORY = "__missing__"
# "one_hot": the paper; "authors": the authors' code: target encoding for binary tasks, ordinal otherwise.
CategoricalEncoding = Literal["one_hot", "authors"]
CATEGORICAL_ENCODINGS = get_args(CategoricalEncoding)
# "impute": numeric cells by the training median, categorical ones as a category of their own;
# "refuse": data with such a cell in a kept column is not used (an n/a row that says why).
Missing = Literal["impute", "refuse"]


def is_categorical(column: pd.Series) -> bool:
    return not pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column)


def _as_category_strings(frame: pd.DataFrame) -> pd.DataFrame:
    # One representation for nominal, string and boolean columns, whatever pandas gave us.
    return frame.astype(object).where(frame.notna(), MISSING_CATEGORY).astype(str)


class TabularPreprocessor:
    """`fit(X_train, y_train)` then `transform(X)` -> float32 array of shape (n, n_features_out_).
    `y_train` is only read by the authors' target encoding.

    Options (`data.preprocess.*`): columns missing in more than `max_missing_fraction` of the
    rows are dropped, and categoricals with more unique values than `id_unique_fraction` of the
    rows (IDs); one-hot encoding keeps at most `max_categories` per column (rarer categories
    share one "infrequent" column) and refuses to make more than `max_onehot_columns` columns,
    naming the options that help; `categorical_encoding` is CategoricalEncoding's, `missing`
    Missing's."""

    def __init__(
        self,
        *,
        max_missing_fraction: float = 0.9,
        id_unique_fraction: float = 0.9,
        max_categories: int = 20,
        categorical_encoding: CategoricalEncoding = "one_hot",
        max_onehot_columns: int = 1000,
        missing: Missing = "impute",
    ):
        if categorical_encoding not in CATEGORICAL_ENCODINGS:
            raise ValueError(f"categorical_encoding must be one of {CATEGORICAL_ENCODINGS}, got {categorical_encoding!r}")
        if missing not in get_args(Missing):
            raise ValueError(f"missing must be one of {get_args(Missing)}, got {missing!r}")
        self.max_missing_fraction = max_missing_fraction
        self.id_unique_fraction = id_unique_fraction
        self.max_categories = max_categories
        self.categorical_encoding = categorical_encoding
        self.max_onehot_columns = max_onehot_columns
        self.missing = missing

    def fit(self, X: pd.DataFrame, y: np.ndarray | None = None) -> "TabularPreprocessor":
        self.fit_transform(X, y)
        return self

    def fit_transform(self, X: pd.DataFrame, y: np.ndarray | None = None) -> np.ndarray:
        """Fit, and encode the training rows themselves. With the authors' target encoding these
        are cross-fitted codes (sklearn's TargetEncoder), so a row's own label does not leak
        into its features; `transform` applies the codes fitted on every training row."""
        if not isinstance(X, pd.DataFrame):
            raise TypeError(f"TabularPreprocessor expects a pandas DataFrame, got {type(X).__name__}")
        self.dropped_ = self._columns_to_drop(X)
        kept = [c for c in X.columns if c not in self.dropped_]
        self.categorical_ = [c for c in kept if is_categorical(X[c])]
        self.numeric_ = [c for c in kept if c not in self.categorical_]
        if not kept:
            raise UnusableFold("every column was dropped by preprocessing (constant, missing or ID-like): "
                             f"{self.dropped_}")
        self._refuse_missing(X)
        self.transformer_ = ColumnTransformer(
            [
                ("numeric", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), self.numeric_),
                ("categorical", self._categorical_encoder(y), self.categorical_),
            ],
            verbose_feature_names_out=False,
        )
        encoded = self.transformer_.fit_transform(self._prepared(X), y)
        self.feature_names_out_ = [str(n) for n in self.transformer_.get_feature_names_out()]
        self.source_columns_ = self._source_columns()
        n_encoded = len(self.feature_names_out_) - len(self.numeric_)
        if self.categorical_encoding == "one_hot" and n_encoded > self.max_onehot_columns:
            raise UnusableFold(
                f"one-hot encoding {len(self.categorical_)} categorical columns makes {n_encoded} columns, more than "
                f"data.preprocess.max_onehot_columns={self.max_onehot_columns}; set "
                "data.preprocess.categorical_encoding=authors (ordinal/target codes), lower "
                "data.preprocess.max_categories, or raise the limit"
            )
        return np.asarray(encoded, dtype=np.float32)

    def transform(self, X: pd.DataFrame) -> np.ndarray:
        self._refuse_missing(X)
        return np.asarray(self.transformer_.transform(self._prepared(X)), dtype=np.float32)

    def describe_missing(self, X: pd.DataFrame) -> str | None:
        """What preprocessing does to the missing and infinite cells of X's columns that it keeps
        (those it drops over all of X's rows; a fold drops the same but for a borderline column),
        in one line; None when there are none."""
        kept = [c for c in X.columns if c not in self._columns_to_drop(X)]
        cells = self._missing_cells_of(X[kept])
        if cells is None:
            return None
        if self.missing == "refuse":
            return f"{cells} refused (data.preprocess.missing=refuse; =impute fills them in)"
        return (f"{cells} filled in: numeric ones with the training part's median, categorical ones as a category of "
                "their own (data.preprocess.missing=refuse refuses such data instead)")

    def _refuse_missing(self, X: pd.DataFrame) -> None:
        if self.missing != "refuse":
            return
        cells = self._missing_cells_of(X[self.numeric_ + self.categorical_])
        if cells is not None:
            raise UnusableFold(f"{cells}, refused (data.preprocess.missing=refuse; =impute fills them in)")

    @staticmethod
    def _missing_cells_of(X: pd.DataFrame) -> str | None:
        """"N missing cell(s) (a: 2, 1 of them inf; b: 1)", per column, or None."""
        counts = {}
        for name in X.columns:
            column = X[name]
            infinite = 0 if is_categorical(column) else int(np.isinf(column.astype(float)).sum())
            if column.isna().sum() + infinite:
                counts[str(name)] = (int(column.isna().sum()) + infinite, infinite)
        if not counts:
            return None
        columns = "; ".join(f"{name}: {n}" + (f", {inf} of them inf" if inf else "")
                            for name, (n, inf) in counts.items())
        return f"{sum(n for n, _ in counts.values())} missing cell(s) ({columns})"

    def _source_columns(self) -> list[str]:
        """The original column each output column encodes: explanations are computed per output
        column and summed per original column (a one-hot group) for the tables."""
        if self.categorical_encoding != "one_hot" or not self.categorical_:
            return [str(c) for c in self.numeric_ + self.categorical_]
        encoder = self.transformer_.named_transformers_["categorical"]
        infrequent = encoder.infrequent_categories_
        widths = [len(categories) - (0 if rare is None else len(rare) - 1)
                  for categories, rare in zip(encoder.categories_, infrequent, strict=True)]
        return [str(c) for c in self.numeric_] + [str(c) for c, w in zip(self.categorical_, widths, strict=True)
                                                  for _ in range(w)]

    def _categorical_encoder(self, y: np.ndarray | None):
        if self.categorical_encoding == "one_hot":
            return OneHotEncoder(max_categories=self.max_categories, handle_unknown="infrequent_if_exist",
                                 sparse_output=False, dtype=np.float32)
        if y is not None and len(np.unique(y)) == 2:
            return make_pipeline(TargetEncoder(target_type="binary", random_state=0), StandardScaler())
        return make_pipeline(OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1), StandardScaler())

    def _prepared(self, X: pd.DataFrame) -> pd.DataFrame:
        numeric = X[self.numeric_].astype(float).replace([np.inf, -np.inf], np.nan)
        categorical = _as_category_strings(X[self.categorical_])
        return pd.concat([numeric, categorical], axis=1)

    def _columns_to_drop(self, X: pd.DataFrame) -> dict[str, str]:
        dropped = {}
        for name in X.columns:
            column = X[name]
            if not is_categorical(column):
                column = column.astype(float).replace([np.inf, -np.inf], np.nan)
            present = column.dropna()
            if column.isna().mean() > self.max_missing_fraction:
                dropped[name] = f"missing in more than {self.max_missing_fraction:.0%} of training rows"
            elif present.nunique() <= 1:
                dropped[name] = "constant"
            elif is_categorical(column) and present.nunique() > self.id_unique_fraction * len(present):
                dropped[name] = "ID-like categorical (almost every value unique)"
        return dropped

