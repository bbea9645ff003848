import pandas as pd
import pytest

from spatial.privacy import format_suppressed, people_columns, suppress_small_counts


def test_small_people_counts_are_suppressed_zero_and_large_kept():
    df = pd.DataFrame({"building_id": ["B1", "B2", "B3", "B4"], "residents": [0, 1, 4, 5],
                       "age_65_plus": [0, 0, 2, 9], "floors": [1, 2, 3, 4]})
    out = suppress_small_counts(df)
    assert out["residents"].tolist() == [0, pd.NA, pd.NA, 5]
    assert out["age_65_plus"].tolist() == [0, 0, pd.NA, 9]
    assert out["floors"].tolist() == [1, 2, 3, 4], "non-people columns untouched"
    assert df["residents"].tolist() == [0, 1, 4, 5], "input unchanged"


def test_aggregate_columns_and_threshold():
    df = pd.DataFrame({"community_id": ["C1", "C2"], "elderly": [3.0, 30.0]})
    assert people_columns(df, ["elderly"]) == ["elderly"]
    out = suppress_small_counts(df, ["elderly"], threshold=10)
    assert out["elderly"].tolist() == [pd.NA, 30]
    with pytest.raises(ValueError, match="threshold"):
        suppress_small_counts(df, ["elderly"], threshold=0)


def test_format_suppressed():
    assert format_suppressed(pd.NA) == "<5"
    assert format_suppressed(1234) == "1,234"
