from monitoring.services import services_import

from ._diia_dump import DiiaDumpImportCommand


class Command(DiiaDumpImportCommand):
    help = (
        "Import the Register of administrative services from its Diia JSON dump "
        '(guide.diia.gov.ua/register/download/json/, {"entries": [...]}). Idempotent: services are upserted '
        "by identifier with their variations and legal terms; prints the counts of created, updated, "
        "unchanged and skipped entries, with the reason for each skipped one. All or nothing per file."
    )
    import_entries = staticmethod(services_import)
