"""Harm weights: the packaged defaults, unknown-type policies, the count scheme and the
checks on an edited weights CSV."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from rtm.errors import InputError
from rtm.layouts import POLICEUK_SLUGS
from rtm.weights import HarmWeights, default_weights_path

DEFAULTS = {
    "Robbery": 365, "Possession of weapons": 273.75, "Burglary": 220, "Residential burglary": 273.5,
    "Non-residential burglary": 183.5, "Violence and sexual offences": 200, "Criminal damage and arson": 10,
    "Other crime": 10, "Public order": 7.5, "Vehicle crime": 5, "Drugs": 3.5, "Theft from the person": 2,
    "Bicycle theft": 2, "Other theft": 2, "Shoplifting": 1, "Anti-social behaviour": 0,
}


def _csv(tmp_path, text: str, name: str = "weights.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_are_the_documented_values():
    w = HarmWeights.cchi()
    table = dict(zip(w.table["offence_type"], w.table["weight"]))
    assert table == DEFAULTS
    assert w.scheme == "cchi" and w.unknown == "reject"
    assert w.source == str(default_weights_path())


def test_every_police_uk_category_has_a_default():
    names = sorted(POLICEUK_SLUGS.values())
    assert len(names) == 14
    weights, known = HarmWeights.cchi().lookup(names)
    assert known.all()
    assert weights.tolist() == [DEFAULTS[n] for n in names]


def test_lookup_ignores_case_and_spacing():
    weights, known = HarmWeights.cchi().lookup(["ROBBERY", "  violence  and sexual offences ", "drugs"])
    assert weights.tolist() == [365.0, 200.0, 3.5]
    assert known.all()


def test_lookup_of_dictionary_arrays_with_nulls():
    arr = pa.array(["Shoplifting", None, "Robbery", "Shoplifting"]).dictionary_encode()
    weights, known = HarmWeights.cchi(unknown="zero").lookup(arr)
    assert weights.tolist() == [1.0, 0.0, 365.0, 1.0]
    assert known.tolist() == [True, False, True, True]


@pytest.mark.parametrize("policy, default, expected", [
    ("reject", None, [365.0, np.nan, 0.0]),
    ("zero", None, [365.0, 0.0, 0.0]),
    ("default", 12.5, [365.0, 12.5, 0.0]),
])
def test_unknown_policies(policy, default, expected):
    w = HarmWeights.cchi(unknown=policy, default_weight=default)
    weights, known = w.lookup(["Robbery", "Jaywalking", "Anti-social behaviour"])
    np.testing.assert_array_equal(weights, expected)
    assert known.tolist() == [True, False, True]
    assert w.policy_text() == {"reject": "rejected", "zero": "weight 0", "default": "default weight 12.5"}[policy]


@pytest.mark.parametrize("policy, default, words", [("ignore", None, "'ignore' is not one of"),
                                                    ("default", None, "no default weight was given"),
                                                    ("default", -1.0, "-1.0 is not a number from 0"),
                                                    ("default", 1e308, "1e+308 is not a number from 0")])
def test_bad_policies_are_refused_with_a_message(policy, default, words):
    """A policy without its weight (the issue's --unknown default traceback) is a message."""
    with pytest.raises(InputError) as info:
        HarmWeights.cchi(unknown=policy, default_weight=default)
    assert words in info.value.problem and info.value.field_kind == "setting"


def test_overflowing_weights_in_the_table_are_refused(tmp_path):
    path = tmp_path / "w.csv"
    path.write_text("offence_type,weight\nBurglary,1e308\n")
    with pytest.raises(InputError, match="not a number from 0 to 1e"):
        HarmWeights.from_csv(path)


def test_count_scheme_weighs_everything_one():
    w = HarmWeights.count()
    weights, _ = w.lookup(["Robbery", "Jaywalking", None])
    assert weights.tolist() == [1.0, 1.0, 1.0]
    assert w.scheme == "count"
    assert w.policy_text() == "every incident weighs 1"


def test_from_name():
    assert HarmWeights.from_name(None).scheme == "cchi"
    assert HarmWeights.from_name("cchi", unknown="zero").unknown == "zero"
    assert HarmWeights.from_name("count").scheme == "count"
    assert HarmWeights.from_name(str(default_weights_path())).scheme == "harm_weights_cchi.csv"


def test_edited_csv_is_read(tmp_path):
    path = _csv(tmp_path, "\ufeffOffence_Type , WEIGHT,notes\nRobbery, 400 ,raised\nDrugs,0,\n", "local.csv")
    w = HarmWeights.from_csv(path, unknown="zero")
    assert w.scheme == "local.csv"
    assert w.source == str(path)
    assert w.lookup(["robbery", "drugs", "Burglary"])[0].tolist() == [400.0, 0.0, 0.0]
    assert w.provenance()["table"] == [{"offence_type": "Robbery", "weight": 400.0},
                                       {"offence_type": "Drugs", "weight": 0.0}]


def _refused(path) -> InputError:
    with pytest.raises(InputError) as info:
        HarmWeights.from_csv(path)
    err = info.value
    assert str(err).startswith(path.name)
    assert "Fix: " in str(err)
    return err


def test_missing_file(tmp_path):
    err = _refused(tmp_path / "nope.csv")
    assert "does not exist" in err.problem


def test_missing_weight_column(tmp_path):
    err = _refused(_csv(tmp_path, "offence_type,days\nRobbery,365\n"))
    assert err.field == "weight"
    assert err.problem == "column weight is missing"
    assert "offence_type and weight" in err.fix


def test_missing_offence_type_column(tmp_path):
    err = _refused(_csv(tmp_path, "type,weight\nRobbery,365\n"))
    assert err.field == "offence_type"


@pytest.mark.parametrize("cell", ["-1", "abc", "", "inf", "nan", "1e308"])
def test_weight_that_is_not_a_non_negative_number(tmp_path, cell):
    err = _refused(_csv(tmp_path, f"offence_type,weight\nRobbery,365\nDrugs,{cell}\n"))
    assert err.field == "weight"
    assert err.problem == f"row 3 ('Drugs') has weight '{cell}', which is not a number from 0 to 1e+09"


def test_duplicate_offence_type(tmp_path):
    err = _refused(_csv(tmp_path, "offence_type,weight\nRobbery,365\nDrugs,3.5\n robbery ,300\n"))
    assert err.field == "offence_type"
    assert "listed twice (row 4)" in err.problem
    assert err.fix == "keep one row per offence type"


def test_weights_file_not_utf8(tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes("offence_type,weight\nVol à main armée,365\n".encode("latin-1"))
    err = _refused(path)
    assert "not UTF-8" in err.problem
