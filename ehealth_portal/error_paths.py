"""Walking DRF error trees (no DRF imports: forms and services load this before DRF's views)."""

NON_FIELD_KEYS = ("non_field_errors", "__all__")


def error_paths(detail) -> dict[str, list]:
    """DRF's nested error details by path: {"owner.tax_id": [...], "addresses[0].zip": [...]}.

    The errors of an object itself are under its own path ("" for the top). The one walker of error
    trees: the API's `invalid[]` and the forms that map payload errors to fields both use it.
    """
    flat: dict[str, list] = {}

    def walk(value, path: str) -> None:
        if isinstance(value, dict):
            for key, child in value.items():
                if key in NON_FIELD_KEYS:
                    walk(child, path)
                elif isinstance(key, int):  # DRF keys the errors of a list's items by index
                    walk(child, f"{path}[{key}]")
                else:
                    walk(child, f"{path}.{key}" if path else str(key))
        elif isinstance(value, list) and value and all(isinstance(item, str) for item in value):
            flat.setdefault(path, []).extend(value)  # ErrorDetail is a str with a code
        elif isinstance(value, list):
            for index, child in enumerate(value):
                walk(child, f"{path}[{index}]")
        else:
            flat.setdefault(path, []).append(value)

    walk(detail, "")
    return flat
