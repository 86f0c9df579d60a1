"""The reporter's artifact checks stay in step with the typed contract of `services.common.artifacts`."""

from typing import get_type_hints

from services.reporter.artifacts import NEEDED


def test_every_field_the_reporter_checks_is_a_field_of_the_contract():
    for record, fields in NEEDED.items():
        assert set(fields) <= set(get_type_hints(record)), record
