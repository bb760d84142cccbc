from django.db import migrations


def owner_requests_to_ehealth_shape(apps, schema_editor):
    """Heads' requests kept the owner block itself; eHealth's shape nests the person under `party`."""
    EmployeeRequest = apps.get_model("registry", "EmployeeRequest")
    for request in EmployeeRequest.objects.filter(employee_type="OWNER").iterator():
        if "party" in request.data:
            continue
        owner = request.data
        request.data = {
            "legal_entity_id": str(request.legal_entity_id),
            "employee_type": "OWNER",
            "position": owner.get("position", request.position),
            "start_date": request.created_at.date().isoformat(),
            "status": "NEW",
            "party": {name: value for name, value in owner.items() if name != "position"},
        }
        request.save(update_fields=["data"])


class Migration(migrations.Migration):
    dependencies = [("registry", "0007_staff_history")]

    operations = [migrations.RunPython(owner_requests_to_ehealth_shape, migrations.RunPython.noop)]
