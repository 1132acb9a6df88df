"""Tabular preprocessing, fitted on the training part only (IMN's protocol, METHODS.md §1).

Drops constant columns, columns missing in more than `max_missing_fraction` of the training
rows and ID-like categoricals; numerics: median imputation then standardisation; categoricals:
missing values become their own category, then one-hot encoding capped at `max_categories`
columns per feature: categories rarer than the kept ones share one "infrequent" column, and a
category never seen in training encodes as that column, or as all zeros when there is none.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

MISSING_CATEGORY = "__missing__"


def is_categorical(column: pd.Series) -> bool:
    return not pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column)


def _as_category_strings(frame: pd.DataFrame) -> pd.DataFrame:
    # One representation for nominal, string and boolean columns, whatever pandas gave us.
    return frame.astype(object).where(frame.notna(), MISSING_CATEGORY).astype(str)


class TabularPreprocessor:
    """`fit(X_train)` then `transform(X)` -> float32 array of shape (n, n_features_out_)."""

    def __init__(
        self,
        *,
        max_missing_fraction: float = 0.9,
        id_unique_fraction: float = 0.9,
        max_categories: int = 20,
    ):
        self.max_missing_fraction = max_missing_fraction
        self.id_unique_fraction = id_unique_fraction
        self.max_categories = max_categories

    def fit(self, X: pd.DataFrame) -> "TabularPreprocessor":
        if not isinstance(X, pd.DataFrame):
            raise TypeError(f"TabularPreprocessor expects a pandas DataFrame, got {type(X).__name__}")
        self.dropped_ = self._columns_to_drop(X)
        kept = [c for c in X.columns if c not in self.dropped_]
        self.categorical_ = [c for c in kept if is_categorical(X[c])]
        self.numeric_ = [c for c in kept if c not in self.categorical_]
        if not kept:
            raise ValueError("every column was dropped by preprocessing (constant, missing or ID-like)")
        self.transformer_ = ColumnTransformer(
            [
                ("numeric", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), self.numeric_),
                (
                    "categorical",
                    OneHotEncoder(
                        max_categories=self.max_categories,
                        handle_unknown="infrequent_if_exist",
                        sparse_output=False,
                        dtype=np.float32,
                    ),
                    self.categorical_,
                ),
            ],
            verbose_feature_names_out=False,
        )
        self.transformer_.fit(self._prepared(X))
        self.feature_names_out_ = [str(n) for n in self.transformer_.get_feature_names_out()]
        return self

    def transform(self, X: pd.DataFrame) -> np.ndarray:
        return np.asarray(self.transformer_.transform(self._prepared(X)), dtype=np.float32)

    def _prepared(self, X: pd.DataFrame) -> pd.DataFrame:
        numeric = X[self.numeric_].astype(float)
        categorical = _as_category_strings(X[self.categorical_])
        return pd.concat([numeric, categorical], axis=1)

    def _columns_to_drop(self, X: pd.DataFrame) -> dict[str, str]:
        dropped = {}
        for name in X.columns:
            column = X[name]
            present = column.dropna()
            if column.isna().mean() > self.max_missing_fraction:
                dropped[name] = f"missing in more than {self.max_missing_fraction:.0%} of training rows"
            elif present.nunique() <= 1:
                dropped[name] = "constant"
            elif is_categorical(column) and present.nunique() > self.id_unique_fraction * len(present):
                dropped[name] = "ID-like categorical (almost every value unique)"
        return dropped
