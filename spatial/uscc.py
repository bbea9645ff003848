"""Unified social credit codes (统一社会信用代码), GB 32100-2015.

A code has 18 characters from a 31-character set (digits and capital letters
without I, O, S, V, Z).  The 18th is a check character: with the weights
``3**i mod 31`` for positions 1–17, ``check = 31 - (sum(w_i * c_i) mod 31)``,
where 31 maps back to ``0``.

Examples
--------
>>> uscc_is_valid("91350100M000100Y43")
True
>>> uscc_check_char("91350100M000100Y4")
'3'
>>> uscc_problem("91350100M000100Y44")
'check character is 4, expected 3'
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "USCC_CHARSET",
    "USCC_WEIGHTS",
    "uscc_check_char",
    "uscc_is_valid",
    "uscc_problem",
    "uscc_valid_mask",
    "make_uscc",
    "complete_uscc",
]

USCC_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_VALUE = {c: i for i, c in enumerate(USCC_CHARSET)}

# Lookup table from byte value to code value (-1 = not allowed), for vectorised checks.
_LUT = np.full(256, -1, dtype=np.int16)
for _c, _v in _VALUE.items():
    _LUT[ord(_c)] = _v


def uscc_check_char(first17: str) -> str:
    """Return the check character for the first 17 characters of a code."""
    if len(first17) != 17:
        raise ValueError(f"need 17 characters, got {len(first17)}")
    try:
        total = sum(_VALUE[c] * w for c, w in zip(first17, USCC_WEIGHTS))
    except KeyError as exc:
        raise ValueError(f"character {exc.args[0]!r} is not in the USCC character set") from None
    return USCC_CHARSET[(31 - total % 31) % 31]


def uscc_problem(code: object) -> str | None:
    """Describe what is wrong with ``code``, or return ``None`` if it is valid."""
    if not isinstance(code, str):
        return "missing" if code is None or code != code else f"not text ({type(code).__name__})"
    if len(code) != 18:
        return f"has {len(code)} characters, expected 18"
    bad = [c for c in code if c not in _VALUE]
    if bad:
        return f"character {bad[0]!r} is not allowed (GB 32100-2015 uses 0-9 and A-Y without I, O, S, V, Z)"
    expected = uscc_check_char(code[:17])
    if code[17] != expected:
        return f"check character is {code[17]}, expected {expected}"
    return None


def uscc_is_valid(code: object) -> bool:
    """Whether ``code`` is a well-formed USCC with a correct check character."""
    return uscc_problem(code) is None


def uscc_valid_mask(codes) -> np.ndarray:
    """Vectorised validity of many codes (array-like of str/None) as a bool array."""
    arr = np.asarray(codes, dtype=object)
    out = np.zeros(len(arr), dtype=bool)
    is_str = np.fromiter((isinstance(c, str) for c in arr), bool, len(arr))
    if not is_str.any():
        return out
    strs = arr[is_str].astype("U")
    ok_len = np.char.str_len(strs) == 18
    sub = strs[ok_len]
    if len(sub):
        raw = np.frombuffer(np.char.encode(sub, "ascii", "replace").astype("S18").tobytes(),
                            dtype=np.uint8).reshape(-1, 18)
        vals = _LUT[raw].astype(np.int32)
        charset_ok = (vals >= 0).all(axis=1)
        total = (np.clip(vals[:, :17], 0, None) * np.array(USCC_WEIGHTS)).sum(axis=1)
        check = (31 - total % 31) % 31
        good = charset_ok & (check == vals[:, 17])
        idx_len = np.flatnonzero(ok_len)
        valid_strs = np.zeros(len(strs), dtype=bool)
        valid_strs[idx_len] = good
        out[np.flatnonzero(is_str)] = valid_strs
    return out


def complete_uscc(first17) -> np.ndarray:
    """Append the check character to each of many 17-character code bodies (vectorised).

    Examples
    --------
    >>> complete_uscc(["91350100M000100Y4"]).tolist()
    ['91350100M000100Y43']
    """
    first17 = np.asarray(first17, dtype="U17")
    raw = np.frombuffer(first17.astype("S17").tobytes(), dtype=np.uint8).reshape(-1, 17)
    vals = _LUT[raw].astype(np.int32)
    if (vals < 0).any():
        bad = first17[(vals < 0).any(axis=1)][0]
        raise ValueError(f"{bad!r} has characters outside the USCC character set")
    check = (31 - (vals * np.array(USCC_WEIGHTS)).sum(axis=1) % 31) % 31
    return np.char.add(first17, np.array(list(USCC_CHARSET))[check]).astype(object)


def make_uscc(rng: np.random.Generator, n: int, division_codes=None, prefixes=None) -> np.ndarray:
    """Generate ``n`` distinct-looking valid codes (vectorised), for sample data.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of randomness (deterministic for a fixed seed).
    n : int
        How many codes.
    division_codes : array-like of str, optional
        Six-digit administrative division codes to draw positions 3–8 from.
    prefixes : array-like of str, optional
        Registration authority and entity kind (positions 1–2) per code, e.g.
        ``"91"`` for a company or ``"92"`` for an individual business; drawn
        at random when not given.
    """
    charset = np.array(list(USCC_CHARSET))
    authority = rng.choice(np.array(list("9195")), n)  # 9 = market regulation (industry & commerce)
    kind = np.where(authority == "9", rng.choice(np.array(list("123")), n), rng.choice(np.array(list("12")), n))
    if division_codes is None:
        division_codes = np.array(["320102", "320104", "320105", "320106", "320111", "320113"])
    division = rng.choice(np.asarray(division_codes), n)
    body = charset[rng.integers(0, 31, size=(n, 9))]
    head = np.char.add(authority, kind)
    if prefixes is not None:
        head = np.asarray(prefixes, dtype="U2")
        if head.shape != (n,):
            raise ValueError(f"prefixes must hold {n} two-character codes")
    body9 = body.astype("U1").view(f"U9").reshape(n)
    return complete_uscc(np.char.add(np.char.add(head, division), body9))
