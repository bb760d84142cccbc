from monitoring.services import cnaps_import

from ._diia_dump import DiiaDumpImportCommand


class Command(DiiaDumpImportCommand):
    help = (
        "Import the CNAP registry from its Diia JSON dump (guide.diia.gov.ua/asc/download/json/, "
        '{"entries": [...]}). Idempotent: CNAPs are upserted by code; prints the counts of created, updated, '
        "unchanged and skipped entries, with the reason for each skipped one. All or nothing per file."
    )
    import_entries = staticmethod(cnaps_import)
