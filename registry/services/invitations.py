"""The invitee's side of invitations (employee requests): accepting, declining; expiring old ones."""

from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ehealth_portal.history import acting_as, update_recorded

from ..models import (
    Employee,
    EmployeeRequest,
    Party,
)
from ..selectors import (
    OWNER,
    employee_request_by_token,
)
from .people import party_upsert

# --- Invitations and facilities -------------------------------------------------------------------

INVITATION_PROBLEMS = {
    "invalid": _("This invitation link is not valid. Check that you copied the whole link from the email."),
    "used": _("This invitation has already been used or withdrawn."),
    "expired": _("This invitation has expired. Ask the facility (or, for a head, support) for a new one."),
    "superseded": _(
        "This invitation was sent again: this link no longer works. Open the link in the newest email."
    ),
}


def _problem_error(problem: str) -> ValidationError:
    return ValidationError(INVITATION_PROBLEMS[problem], code=f"invitation_{problem}")


def _open_request(token: str) -> EmployeeRequest:
    """The invitation behind a link that can still be answered (an expired one is marked EXPIRED)."""
    request, problem = employee_request_by_token(token=token)
    if problem == "expired" and request.status == EmployeeRequest.Status.NEW:
        update_recorded(
            EmployeeRequest.objects.filter(pk=request.pk, status=EmployeeRequest.Status.NEW),
            reason="expired",
            status=EmployeeRequest.Status.EXPIRED,
            decided_at=timezone.now(),
        )
    if problem:
        raise _problem_error(problem)
    return request


def employee_request_accept(*, token: str, password: str | None = None, user=None):
    """Accept an invitation by its link: the account, the person, the employee; returns the user.

    A signed-in `user` accepts with their own account, whose email must be the invitation's. Otherwise
    `password` sets up the account for the invitation's email — unless that account already has a
    password: its owner signs in first (nobody takes over an account with a link). Single use and
    atomic: a bad, used, superseded or expired link, a weak password or another person's account
    changes nothing.
    """
    request = _open_request(token)
    User = get_user_model()  # noqa: N806
    with transaction.atomic():
        request = _lock_new(request)
        person = request.data["party"]
        if user is not None:
            _check_invitee(request, user)
        else:
            user = User.objects.filter(email__iexact=request.email).first()
            if user is not None and user.has_usable_password():
                raise ValidationError(
                    _("You already have an account with this email address: sign in to accept."),
                    code="account_exists",
                )
            try:
                validate_password(
                    password or "",
                    user=user
                    or User(
                        email=request.email, first_name=person["first_name"], last_name=person["last_name"]
                    ),
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
        with acting_as(user):
            _approve(request, user)
    return user


def employee_request_decline(*, token: str) -> EmployeeRequest:
    """Decline an invitation by its link (whoever holds the link got it by email): NEW → REJECTED."""
    request = _open_request(token)
    with transaction.atomic():
        request = _lock_new(request)
        request.status = EmployeeRequest.Status.REJECTED
        request.decided_at = timezone.now()
        request._change_reason = "declined by link"
        request.save(update_fields=["status", "decided_at", "updated_at"])
    return request


def employee_request_approve(*, employee_request: EmployeeRequest, user) -> EmployeeRequest:
    """The invited, signed-in user accepts (the API's approve): their email must be the invitation's."""
    with transaction.atomic():
        request = _lock_new(employee_request)
        _check_invitee(request, user)
        with acting_as(user):
            _approve(request, user)
    return request


def employee_request_reject(*, employee_request: EmployeeRequest, user) -> EmployeeRequest:
    """The invited, signed-in user declines (the API's reject): NEW → REJECTED."""
    with transaction.atomic(), acting_as(user):
        request = _lock_new(employee_request)
        _check_invitee(request, user)
        request.status = EmployeeRequest.Status.REJECTED
        request.decided_at = timezone.now()
        request.save(update_fields=["status", "decided_at", "updated_at"])
    return request


def _lock_new(request: EmployeeRequest) -> EmployeeRequest:
    """The request, locked, if it can still be answered (eHealth: only NEW; an expired one is 'expired')."""
    request = EmployeeRequest.objects.select_for_update().select_related("legal_entity").get(pk=request.pk)
    if request.status == EmployeeRequest.Status.EXPIRED or (
        request.status == EmployeeRequest.Status.NEW and request.expires_at <= timezone.now()
    ):
        raise _problem_error("expired")
    if request.status != EmployeeRequest.Status.NEW:  # answered meanwhile
        raise _problem_error("used")
    return request


def _check_invitee(request: EmployeeRequest, user) -> None:
    if (user.email or "").lower() != request.email.lower():
        raise PermissionDenied(
            _("This invitation is for %(email)s: sign in with that account.") % {"email": request.email}
        )


def _approve(request: EmployeeRequest, user) -> Employee:
    """The person (created or updated), linked to the user; the employee; the request APPROVED."""
    person = request.data["party"]
    # The link came to this address: it is verified.
    EmailAddress.objects.filter(user=user).exclude(email__iexact=request.email).update(primary=False)
    EmailAddress.objects.update_or_create(
        user=user, email=request.email, defaults={"verified": True, "primary": True}
    )
    party = party_upsert(person=person)
    if party.user_id not in (None, user.pk) or Party.objects.filter(user=user).exclude(pk=party.pk).exists():
        raise ValidationError(
            _("This email address already belongs to another person's account."),
            code="email_other_person",
        )
    if party.user_id is None:
        party.user = user
        party.save(update_fields=["user", "updated_at"])
    today = timezone.localdate()
    doctor = request.data.get("doctor") or {}
    speciality = next((item for item in doctor.get("specialities", []) if item["speciality_officio"]), {})
    job = {
        "division": request.division,
        "position": request.position,
        "additional_info": doctor,
        "speciality": speciality,
        "end_date": request.data.get("end_date"),
    }
    if request.employee_id is not None:  # eHealth's update mode: the same job, new data
        employee = Employee.objects.select_for_update().get(pk=request.employee_id)
        for name, value in job.items():
            setattr(employee, name, value)
        employee.save()
    else:
        if request.employee_type == OWNER:  # one head at a time
            for previous in Employee.objects.filter(
                legal_entity=request.legal_entity, employee_type=OWNER, is_active=True
            ):
                previous.is_active = False
                previous.status = Employee.Status.DISMISSED
                previous.end_date = today
                previous.save(update_fields=["is_active", "status", "end_date", "updated_at"])
        employee = Employee.objects.create(
            legal_entity=request.legal_entity,
            party=party,
            employee_type=request.employee_type,
            start_date=request.data.get("start_date") or today,
            status=Employee.Status.APPROVED,
            is_active=True,
            **job,
        )
    request.status = EmployeeRequest.Status.APPROVED
    request.employee = employee
    request.decided_at = timezone.now()
    request.save(update_fields=["status", "employee", "decided_at", "updated_at"])
    return employee


def employee_request_expire() -> int:
    """Mark NEW requests past their term EXPIRED (the periodic job); returns how many."""
    with transaction.atomic():
        return update_recorded(
            EmployeeRequest.objects.select_for_update().filter(
                status=EmployeeRequest.Status.NEW, expires_at__lte=timezone.now()
            ),
            reason="expired",
            status=EmployeeRequest.Status.EXPIRED,
            decided_at=timezone.now(),
        )
