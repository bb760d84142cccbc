"""Writes of invitations (employee requests): accepting one, expiring old ones."""

from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ..models import (
    Employee,
    EmployeeRequest,
    Party,
)
from ..selectors import (
    OWNER,
    employee_request_by_token,
)
from .people import party_get_or_create

# --- Invitations and facilities -------------------------------------------------------------------

INVITATION_PROBLEMS = {
    "invalid": _("This invitation link is not valid. Check that you copied the whole link from the email."),
    "used": _("This invitation has already been used or withdrawn."),
    "expired": _("This invitation has expired. Ask the facility (or, for a head, support) for a new one."),
}


def employee_request_accept(*, token: str, password: str):
    """Accept an invitation: the account (email fixed by the request), the person, the employee.

    Single use and atomic: a bad, used or expired link or a weak password changes nothing (an expired
    request is marked EXPIRED). Returns the user, who may then sign in.
    """
    request, problem = employee_request_by_token(token=token)
    if problem == "expired" and request.status == EmployeeRequest.Status.NEW:
        EmployeeRequest.objects.filter(pk=request.pk, status=EmployeeRequest.Status.NEW).update(
            status=EmployeeRequest.Status.EXPIRED, decided_at=timezone.now()
        )
    if problem:
        raise ValidationError(INVITATION_PROBLEMS[problem], code=f"invitation_{problem}")
    User = get_user_model()  # noqa: N806
    with transaction.atomic():
        request = (
            EmployeeRequest.objects.select_for_update().select_related("legal_entity").get(pk=request.pk)
        )
        if request.status != EmployeeRequest.Status.NEW:  # accepted meanwhile
            raise ValidationError(INVITATION_PROBLEMS["used"], code="invitation_used")
        person = request.data
        user = User.objects.filter(email__iexact=request.email).first()
        try:
            validate_password(
                password,
                user=user
                or User(email=request.email, first_name=person["first_name"], last_name=person["last_name"]),
            )
        except ValidationError as error:
            raise ValidationError({"password": error.error_list}) from error
        if user is None:
            user = User.objects.create_user(
                email=request.email,
                password=password,
                first_name=person["first_name"],
                last_name=person["last_name"],
            )
        else:
            user.set_password(password)
            user.is_active = True
            user.save(update_fields=["password", "is_active"])
        # The link came to this address: it is verified.
        EmailAddress.objects.filter(user=user).exclude(email__iexact=request.email).update(primary=False)
        EmailAddress.objects.update_or_create(
            user=user, email=request.email, defaults={"verified": True, "primary": True}
        )
        party = party_get_or_create(person=person)
        if (
            party.user_id not in (None, user.pk)
            or Party.objects.filter(user=user).exclude(pk=party.pk).exists()
        ):
            raise ValidationError(
                _("This email address already belongs to another person's account."),
                code="email_other_person",
            )
        if party.user_id is None:
            party.user = user
            party.save(update_fields=["user"])
        today = timezone.localdate()
        if request.employee_type == OWNER:  # one head at a time
            Employee.objects.filter(
                legal_entity=request.legal_entity, employee_type=OWNER, is_active=True
            ).update(is_active=False, status=Employee.Status.DISMISSED, end_date=today)
        employee = Employee.objects.create(
            legal_entity=request.legal_entity,
            division=request.division,
            party=party,
            employee_type=request.employee_type,
            position=request.position,
            start_date=today,
            status=Employee.Status.APPROVED,
            is_active=True,
        )
        request.status = EmployeeRequest.Status.APPROVED
        request.employee = employee
        request.decided_at = timezone.now()
        request.save(update_fields=["status", "employee", "decided_at"])
    return user


def employee_request_expire() -> int:
    """Mark NEW requests past their term EXPIRED (the periodic job); returns how many."""
    return EmployeeRequest.objects.filter(
        status=EmployeeRequest.Status.NEW, expires_at__lte=timezone.now()
    ).update(status=EmployeeRequest.Status.EXPIRED, decided_at=timezone.now())
