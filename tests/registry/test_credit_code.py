"""统一社会信用代码 validation (GB 32100-2015)."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kiln.registry import credit_code

# Published codes of well-known organisations, plus the standard's own example.
REAL_CODES = [
    "91350100M000100Y43",  # GB 32100-2015 example
    "91330100716105852F",
    "914403001922038216",
    "91110000710926094P",
    "12100000400000624D",  # a public institution (事业单位): authority 1, type 2
]


@pytest.mark.parametrize("code", REAL_CODES)
def test_real_codes_are_valid(code):
    assert credit_code.problem(code) is None
    assert credit_code.is_valid(code)


@pytest.mark.parametrize("code", ["", "91350100M000100Y4", "91350100M000100Y433", "9135 0100M000100Y43"])
def test_wrong_length(code):
    assert credit_code.problem(code) == "length"


@pytest.mark.parametrize("bad", ["I", "O", "S", "V", "Z", "a", "-"])
def test_characters_outside_the_alphabet(bad):
    code = "91350100M000100Y43"
    assert credit_code.problem(code[:10] + bad + code[11:]) == "charset"


def test_division_code_must_be_digits():
    # "A" is in the alphabet, so this fails on the division part, not the charset.
    assert credit_code.problem("913501A0M000100Y43") == "region"


@pytest.mark.parametrize("code", ["91350100M000100Y44", "91330100716105852E", "91350100M000010Y43"])
def test_wrong_check_character(code):
    assert credit_code.problem(code) == "checksum"


def test_make_builds_valid_codes():
    code = credit_code.make("9", "1", "330100", "MA0000001")
    assert len(code) == 18 and credit_code.is_valid(code)
    with pytest.raises(ValueError):
        credit_code.make("9", "1", "3301", "MA0000001")


BODY = st.text(alphabet=credit_code.ALPHABET, min_size=9, max_size=9)
REGION = st.from_regex(r"\A[0-9]{6}\Z")


@given(body=BODY, region=REGION)
def test_every_made_code_is_valid(body, region):
    assert credit_code.is_valid(credit_code.make("9", "1", region, body))


@given(body=BODY, position=st.integers(0, 17), replacement=st.sampled_from(credit_code.ALPHABET))
def test_any_single_substitution_is_caught(body, position, replacement):
    """31 is prime and no weight is a multiple of it, so one changed character always breaks the check."""
    code = credit_code.make("9", "1", "330100", body)
    if code[position] == replacement:
        return
    mutated = code[:position] + replacement + code[position + 1 :]
    assert credit_code.problem(mutated) in {"checksum", "region"}


def test_subtypes_know_their_kind(world):
    from kiln.registry.models import Organisation

    assert Organisation.objects.get(pk=world.e1.pk).kind == "enterprise"
    assert Organisation.objects.filter(kind="government").count() == 2
    assert Organisation.objects.filter(kind="third_party").count() == 2
