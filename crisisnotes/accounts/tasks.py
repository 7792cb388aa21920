from celery import shared_task

from crisisnotes.accounts.services import user_password_reset_send


@shared_task(
    name="accounts.password_reset_email_send",
    autoretry_for=(OSError,),
    max_retries=5,
    retry_backoff=True,
)
def password_reset_email_send(user_id: int, domain: str, use_https: bool) -> bool:
    return user_password_reset_send(user_id=user_id, domain=domain, use_https=use_https)
