import json
from pathlib import Path

import pytest

DEMO = Path(__file__).resolve().parents[2] / "monitoring" / "data" / "demo"


@pytest.fixture
def dump(tmp_path):
    """Write {"entries": entries} to a file and return its path."""

    def write(entries, name="dump.json") -> Path:
        path = tmp_path / name
        path.write_text(json.dumps({"entries": entries}, ensure_ascii=False), encoding="utf-8")
        return path

    return write


def service_entry(identifier="00056", **overrides) -> dict:
    entry = {
        "id": "0b6c7c3e-1f1e-4c1a-9d2e-000000000056",
        "identifier": identifier,
        "translations": [{"name": "Оформлення паспорта для виїзду за кордон"}],
        "owner": {"name": "Державна міграційна служба України"},
        "service_provider": [{"name": "Територіальний орган ДМС"}, {"name": "ЦНАП"}],
        "variations": [
            {
                "identifier": "1",
                "duration": {"verbose": "20 робочих днів", "type": "working_days", "value": 20},
            },
            {
                "identifier": "2",
                "duration": {"verbose": "7 робочих днів", "type": "working_days", "value": 7},
            },
        ],
    }
    return {**entry, **overrides}


def cnap_entry(code=1001, **overrides) -> dict:
    entry = {
        "code": code,
        "name": "ЦНАП м. Києва",
        "state": "Діючий",
        "region": "м. Київ",
        "address": {"address_full": "м. Київ, вул. Кошиця, 9-Б", "lat": 50.4183, "lon": 30.6512},
    }
    return {**entry, **overrides}
