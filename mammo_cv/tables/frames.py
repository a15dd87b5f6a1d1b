"""pandas views of the tables, with a schema's column order and dtypes.

pandas is imported inside the functions, never at module import.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # pragma: no cover - typing only
    import pandas as pd

__all__ = ["to_dataframe", "image_frame"]


def _text_array(values: np.ndarray):
    """A text column as pandas' ``"string"`` dtype. Text that is not valid Unicode (the
    surrogate escapes of a file name's undecodable bytes) gets those bytes as ``\\xff``
    escapes, since Arrow strings must be UTF-8."""
    import pandas as pd

    text = np.asarray(values).astype(str)
    try:
        return pd.array(text, dtype="string")
    except UnicodeEncodeError:
        return pd.array([item.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
                         for item in text.tolist()], dtype="string")


def to_dataframe(table: Mapping[str, np.ndarray], columns: Mapping[str, np.dtype]) -> pd.DataFrame:
    """The table as a pandas DataFrame with the schema's column order and dtypes; text columns
    are pandas' ``"string"`` dtype, empty or not (see :func:`_text_array`). pandas is imported
    here, not at module import."""
    import pandas as pd

    return pd.DataFrame({name: _text_array(table[name]) if dtype.kind == "O"
                         else np.asarray(table[name]).astype(dtype, copy=False) for name, dtype in columns.items()},
                        columns=list(columns))


def image_frame(table: Mapping[str, np.ndarray], columns: Mapping[str, np.dtype], image_id: str) -> pd.DataFrame:
    """One image's table as a DataFrame with exactly ``columns``, its ``image_id`` column filled in.

    Parameters
    ----------
    table : dict of str to (n,) ndarray
        Every column of ``columns`` but ``image_id``; other columns are left out.
    columns : dict of str to numpy dtype
        The schema, e.g. ``CALCIFICATION_CSV_COLUMNS``.
    image_id : str

    Returns
    -------
    pandas.DataFrame
        n rows, the columns of ``columns`` in their order and dtypes (text as ``"string"``).

    Examples
    --------
    >>> import numpy as np
    >>> columns = {"image_id": np.dtype(object), "area_mm2": np.dtype(np.float64)}
    >>> image_frame({"area_mm2": np.array([0.5, 2.0]), "extra": np.zeros(2)}, columns, "img1")
      image_id  area_mm2
    0     img1       0.5
    1     img1       2.0
    """
    n_rows = len(next(iter(table.values())))
    return to_dataframe({**table, "image_id": np.full(n_rows, image_id, dtype=object)}, columns)
