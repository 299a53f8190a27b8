"""One feature encoder for both halves: the zoo's learners (``models.data``) and ``blend stack --features``.

Numeric columns get their missing cells replaced by the training median; text columns become
one-hot columns when they have few distinct values (at most :data:`MAX_ONE_HOT_LEVELS`) and one
ordinal code otherwise, with a missing cell as a level of its own. Everything is fitted on the
training rows only and involves no target, so nothing leaks from the rows being predicted.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    import pandas as pd

#: Text columns with at most this many distinct values are one-hot encoded; wider ones get one
#: ordinal code each, so the matrix stays small.
MAX_ONE_HOT_LEVELS = 20


def encode_features(
    train: pd.DataFrame, test: pd.DataFrame
) -> tuple[NDArray[np.float64], NDArray[np.float64], list[str]]:
    """Impute and encode the feature columns of two data frames with the same columns.

    Parameters
    ----------
    train, test : pandas.DataFrame
        The training rows (the encoding is fitted on them) and the rows to encode the same way.

    Returns
    -------
    train : ndarray of shape (n_train, n_features)
    test : ndarray of shape (n_test, n_features)
    names : list of str
        ``column`` for numbers and ordinal codes, ``column_level`` for one-hot columns (as pandas.get_dummies
        names them).

    Examples
    --------
    >>> import pandas as pd
    >>> train = pd.DataFrame({"x": [1.0, None, 3.0], "c": ["a", "b", None]})
    >>> X, X_test, names = encode_features(train, pd.DataFrame({"x": [None], "c": ["z"]}))
    >>> names, X.tolist(), X_test.tolist()  # doctest: +NORMALIZE_WHITESPACE
    (['x', 'c_a', 'c_b', 'c_nan'], [[1.0, 1.0, 0.0, 0.0], [2.0, 0.0, 1.0, 0.0], [3.0, 0.0, 0.0, 1.0]],
     [[2.0, 0.0, 0.0, 0.0]])
    """
    import pandas as pd

    train_columns, test_columns, names = [], [], []
    for name in train.columns:
        column_train, column_test = train[name], test[name]
        if pd.api.types.is_bool_dtype(column_train) or pd.api.types.is_numeric_dtype(column_train):
            values_train = column_train.astype(float)
            median = values_train.median()
            median = 0.0 if np.isnan(median) else median
            values_test = pd.to_numeric(column_test, errors="coerce").astype(float)
            train_columns.append(values_train.fillna(median).to_numpy())
            test_columns.append(values_test.fillna(median).to_numpy())
            names.append(str(name))
            continue
        # Text: missing values become a level of their own, "nan".
        text_train = column_train.astype(str).where(column_train.notna(), "nan")
        text_test = column_test.astype(str).where(column_test.notna(), "nan")
        levels = sorted(text_train.unique())
        if len(levels) <= MAX_ONE_HOT_LEVELS:
            for level in levels:
                train_columns.append((text_train == level).to_numpy(dtype=float))
                test_columns.append((text_test == level).to_numpy(dtype=float))
                names.append(f"{name}_{level}")
        else:
            # Levels unseen in training get -1, below every known code.
            codes = {level: code for code, level in enumerate(levels)}
            train_columns.append(text_train.map(codes).to_numpy(dtype=float))
            test_columns.append(text_test.map(codes).fillna(-1).to_numpy(dtype=float))
            names.append(str(name))
    return np.column_stack(train_columns), np.column_stack(test_columns), names
