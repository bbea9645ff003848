"""GB 32100-2015 unified social credit codes."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from spatial.uscc import (
    USCC_CHARSET,
    make_uscc,
    uscc_check_char,
    uscc_is_valid,
    uscc_problem,
    uscc_valid_mask,
)

# Codes printed on real business licences / published in the standard's examples.
PUBLISHED = ["91350100M000100Y43", "91110000802100433B", "91440300708461136T"]


@pytest.mark.parametrize("code", PUBLISHED)
def test_published_codes_are_valid(code):
    assert uscc_is_valid(code)
    assert uscc_check_char(code[:17]) == code[17]


@pytest.mark.parametrize(
    "code, reason",
    [
        ("91350100M000100Y44", "check character is 4, expected 3"),
        ("91350100M000100Y4", "has 17 characters, expected 18"),
        ("91350100M000100I43", "character 'I' is not allowed"),
        (None, "missing"),
        (12345, "not text"),
    ],
)
def test_problems_are_named(code, reason):
    assert reason in uscc_problem(code)
    assert not uscc_is_valid(code)


def test_check_char_needs_17_characters():
    with pytest.raises(ValueError, match="need 17 characters"):
        uscc_check_char("123")


def test_generated_codes_are_valid_and_deterministic():
    a = make_uscc(np.random.default_rng(7), 1000)
    b = make_uscc(np.random.default_rng(7), 1000)
    assert list(a) == list(b)
    assert all(uscc_is_valid(c) for c in a)
    assert uscc_valid_mask(a).all()


@given(st.text(alphabet=USCC_CHARSET, min_size=17, max_size=17), st.sampled_from(USCC_CHARSET))
def test_vectorised_mask_agrees_with_scalar_rule(first17, last):
    code = first17 + last
    assert uscc_valid_mask([code])[0] == uscc_is_valid(code)
    good = first17 + uscc_check_char(first17)
    wrong = good[:17] + ("0" if good[17] != "0" else "1")
    assert uscc_valid_mask([good, None, "short", wrong, good[:-1] + "I"]).tolist() == [
        True, False, False, False, False]
