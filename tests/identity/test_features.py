from __future__ import annotations

from datetime import date

from joinedup.fhir.nhs_number import NHS_NUMBER_SYSTEM
from joinedup.identity.features import patient_to_record
from joinedup.identity.nicknames import default_table, parse
from joinedup.identity.normalise import fold, postcode_sector, swapped_day_month


def _patient(**fields: object) -> dict[str, object]:
    return {"resourceType": "Patient", "id": "p1", **fields}


def test_names_are_folded_for_case_accents_punctuation_and_titles() -> None:
    record = patient_to_record(
        _patient(
            name=[{"use": "official", "prefix": ["Dr"], "family": "O'Brien-Núñez", "given": ["José", "Anne-Marie"]}]
        ),
        "gp",
    )
    assert record.given_name == "jose"
    assert record.middle_names == "annemarie"
    assert record.family_name == "obriennunez"
    assert fold("  ÉMILE   Zola!! ") == "emile zola"


def test_nicknames_map_to_one_canonical_given_name_from_a_versioned_table() -> None:
    bill = patient_to_record(_patient(name=[{"given": ["Bill"], "family": "Smith"}]), "gp")
    william = patient_to_record(_patient(name=[{"given": ["William"], "family": "Smith"}]), "gp")
    peggy = patient_to_record(_patient(name=[{"given": ["Peggy"], "family": "Smith"}]), "gp")
    assert bill.given_canonical == william.given_canonical == "william"
    assert bill.given_metaphone == william.given_metaphone
    assert peggy.given_canonical == "margaret"
    assert default_table().version != "unversioned"
    assert parse("# version 9\nnickname,canonical\nbob,robert\n").canonical("bob") == "robert"


def test_a_valid_nhs_number_is_kept_and_an_invalid_one_is_never_used() -> None:
    valid = patient_to_record(_patient(identifier=[{"system": NHS_NUMBER_SYSTEM, "value": "943 476 5919"}]), "gp")
    invalid = patient_to_record(_patient(identifier=[{"system": NHS_NUMBER_SYSTEM, "value": "9434765918"}]), "gp")
    other_system = patient_to_record(_patient(identifier=[{"system": "urn:local", "value": "9434765919"}]), "gp")
    assert valid.nhs_number == "9434765919"
    assert invalid.nhs_number is None and invalid.nhs_number_rejected == "9434765918"
    assert other_system.nhs_number is None


def test_current_and_previous_addresses_come_from_use_and_period() -> None:
    record = patient_to_record(
        _patient(
            address=[
                {
                    "line": ["2 Old Road"],
                    "postalCode": "ls6 2ab",
                    "period": {"start": "2001-01-01", "end": "2010-01-01"},
                },
                {"use": "home", "line": ["14, Mill Lane"], "postalCode": "LS1 4AP", "period": {"start": "2010-01-01"}},
                {"use": "old", "postalCode": "LS9 9ZZ"},
            ]
        ),
        "council",
        today=date(2025, 1, 1),
    )
    assert record.postcode == "LS14AP"
    assert record.postcode_sector == "LS14"
    assert record.address_line == "14 mill lane"
    assert record.address_key == "14 lane mill"
    assert record.postcodes == ("LS14AP", "LS62AB", "LS99ZZ")
    assert postcode_sector("SW1A1AA") == "SW1A1"


def test_dates_sex_and_swapped_day_month() -> None:
    record = patient_to_record(_patient(birthDate="1980-03-07", gender="unknown"), "gp")
    assert record.birth_date == "1980-03-07" and record.birth_year == "1980"
    assert record.birth_date_swapped == "1980-07-03"
    assert record.sex is None
    assert swapped_day_month("1980-05-05") is None
    assert patient_to_record(_patient(birthDate="1980"), "gp").birth_date is None


def test_sparsity_flag() -> None:
    only_surname = patient_to_record(_patient(name=[{"family": "Smith"}]), "voluntary")
    full = patient_to_record(
        _patient(name=[{"family": "Smith", "given": ["Ann"]}], birthDate="1970-01-02"), "voluntary"
    )
    with_nhs = patient_to_record(
        _patient(identifier=[{"system": NHS_NUMBER_SYSTEM, "value": "9434765919"}], name=[{"family": "Smith"}]), "gp"
    )
    assert only_surname.sparse
    assert not full.sparse
    assert not with_nhs.sparse


def test_source_defaults_to_meta_source() -> None:
    record = patient_to_record(_patient(meta={"source": "https://joinedup.example/source/gp"}))
    assert record.source == "https://joinedup.example/source/gp"
    assert record.key == "https://joinedup.example/source/gp|p1"
