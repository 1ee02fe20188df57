"""Withdrawal method use cases (seed 001's registration flow): validate, apply the primary rules
in one transaction, mask for display; list the caller's own; deactivate."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from clearway.payout.domain.errors import InvalidRequestError, NotFoundError
from clearway.payout.domain.withdrawal_methods import (
    BANK_CURRENCY,
    BANK_PROVIDER,
    MOBILE_MONEY_PROVIDERS,
    WITHDRAWAL_METHOD_ID_PREFIX,
    MethodType,
    NewWithdrawalMethod,
    WithdrawalMethod,
    new_method,
)
from clearway.payout.service.context import PayoutContext
from clearway.platform.ids import new_id
from clearway.platform.logging import get_logger
from clearway.providers.bank import InvalidBankAccount, mask_iban, normalise_bic, normalise_iban
from clearway.providers.mobile_money import InvalidPhoneNumber, mask_phone, normalise_phone

logger = get_logger("clearway.payout.withdrawal_methods")


@dataclass(frozen=True, slots=True)
class CreateWithdrawalMethod:
    """What a client sends, before validation."""

    user_id: str
    method_type: MethodType
    provider: str | None = None
    phone_number: str | None = None
    iban: str | None = None
    account_holder_name: str | None = None
    bic: str | None = None
    label: str | None = None
    is_primary: bool = False


def validated(command: CreateWithdrawalMethod) -> NewWithdrawalMethod:
    """Normalise with maintained libraries (phonenumbers, schwifty); refuse with a stable code."""
    common = {"user_id": command.user_id, "label": command.label, "is_primary": command.is_primary}
    if command.method_type is MethodType.MOBILE_MONEY:
        provider = command.provider or "mpesa"
        currency = MOBILE_MONEY_PROVIDERS.get(provider)
        if currency is None:
            raise InvalidRequestError(
                f"Mobile-money provider {provider[:20]!r} is not supported; supported: mpesa.",
                code="PROVIDER_NOT_SUPPORTED",
            )
        if not command.phone_number:
            raise InvalidRequestError("phone_number is required for mobile money.", code="PHONE_NUMBER_REQUIRED")
        try:
            phone = normalise_phone(command.phone_number)
        except InvalidPhoneNumber as error:
            raise InvalidRequestError(str(error), code=error.code) from error
        return NewWithdrawalMethod(
            method_type=MethodType.MOBILE_MONEY,
            provider=provider,
            account_number=phone,
            account_number_masked=mask_phone(phone),
            currency=currency,
            account_holder_name=command.account_holder_name,
            **common,  # type: ignore[arg-type]
        )
    if not command.iban or not command.account_holder_name:
        raise InvalidRequestError(
            "iban and account_holder_name are required for a bank account.", code="BANK_ACCOUNT_INCOMPLETE"
        )
    try:
        iban = normalise_iban(command.iban)
        bic = normalise_bic(command.bic) if command.bic else None
    except InvalidBankAccount as error:
        raise InvalidRequestError(str(error), code=error.code) from error
    return NewWithdrawalMethod(
        method_type=MethodType.BANK_ACCOUNT,
        provider=BANK_PROVIDER,
        account_number=iban,
        account_number_masked=mask_iban(iban),
        currency=BANK_CURRENCY,
        account_holder_name=command.account_holder_name,
        bic=bic,
        **common,  # type: ignore[arg-type]
    )


async def create_withdrawal_method(context: PayoutContext, command: CreateWithdrawalMethod) -> WithdrawalMethod:
    request = validated(command)
    async with context.unit_of_work() as uow:
        # Seed 001 in one transaction; the user's wallet lock orders two concurrent creates, and the
        # partial unique index on the primary would refuse a second primary even without it.
        await uow.withdrawals.lock_wallet(request.user_id, "*")
        now = context.clock()
        if request.is_primary:
            await uow.methods.clear_primary(request.user_id, now)
        has_primary = await uow.methods.primary_for(request.user_id) is not None
        method = new_method(request, method_id=new_id(WITHDRAWAL_METHOD_ID_PREFIX), has_primary=has_primary, now=now)
        await uow.methods.add(method)
        await uow.commit()
    logger.info(
        "withdrawal method created",
        method_id=method.id,
        user_id=method.user_id,
        method_type=method.method_type.value,
        account=method.account_number_masked,
        is_primary=method.is_primary,
    )
    return method


async def list_withdrawal_methods(
    context: PayoutContext, user_id: str | None, *, starting_after: str | None, limit: int
) -> Sequence[WithdrawalMethod]:
    async with context.unit_of_work() as uow:
        return await uow.methods.list_for_user(user_id, active=True, starting_after=starting_after, limit=limit)


async def get_withdrawal_method(context: PayoutContext, method_id: str, *, owner: str | None) -> WithdrawalMethod:
    """`owner` None: an operator, who sees every user's methods."""
    async with context.unit_of_work() as uow:
        method = await uow.methods.get(method_id)
    if method is None or (owner is not None and method.user_id != owner):
        raise NotFoundError(f"No withdrawal method {method_id}.", code="WITHDRAWAL_METHOD_NOT_FOUND")
    return method


async def deactivate_withdrawal_method(
    context: PayoutContext, method_id: str, *, owner: str | None
) -> WithdrawalMethod:
    async with context.unit_of_work() as uow:
        method = await uow.methods.get(method_id, for_update=True)
        if method is None or not method.active or (owner is not None and method.user_id != owner):
            raise NotFoundError(f"No withdrawal method {method_id}.", code="WITHDRAWAL_METHOD_NOT_FOUND")
        deactivated = method.deactivated(context.clock())
        await uow.methods.update(deactivated)
        await uow.commit()
    logger.info("withdrawal method deactivated", method_id=method_id, user_id=method.user_id)
    return deactivated
