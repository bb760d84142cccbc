"""Declaration numbers: eHealth 2019's `0001-XXXX-XXXX` (API19 `utils/number_generator.ex`).

Eight characters from an alphabet that reads the same in Latin and Cyrillic letters (0-9 and
A E H K M P T X), drawn with `secrets`: 18⁸ ≈ 1.1·10¹⁰ numbers, so a collision is rare; the unique
constraint catches one and the creator draws again (`declaration_number_new` skips numbers in use).
"""

import secrets

from ..models import DeclarationRequest

ALPHABET = "0123456789AEHKMPTX"
PREFIX = "0001"


def declaration_number_draw() -> str:
    body = "".join(secrets.choice(ALPHABET) for _ in range(8))
    return f"{PREFIX}-{body[:4]}-{body[4:]}"


def declaration_number_new(*, attempts: int = 10) -> str:
    """A number no request has yet (a parallel creator may still take it: the constraint decides)."""
    for _ in range(attempts):
        number = declaration_number_draw()
        if not DeclarationRequest.objects.filter(declaration_number=number).exists():
            return number
    raise RuntimeError("no free declaration number after several draws")
