import os

from django.core.management.base import BaseCommand

from customers.demo import demo_login_ensure


class Command(BaseCommand):
    help = (
        "Make sure the staff superuser 'admin' exists, keep its password in "
        "var/demo-login.txt (mode 0600) and print the login."
    )

    def handle(self, *args, **options) -> None:
        login = demo_login_ensure()
        port = os.environ.get("PORT") or "8000"
        if login.created:
            self.stdout.write(f"Created the staff user '{login.username}'.")
        elif login.reset:
            self.stdout.write(
                f"{login.path} was missing; reset the password of '{login.username}'."
            )
        self.stdout.write(
            f"Log in at http://127.0.0.1:{port}/app/\n"
            f"  username: {login.username}\n"
            f"  password: {login.password}"
        )
        if not login.works:
            self.stderr.write(
                self.style.WARNING(
                    f"The password of '{login.username}' was changed since it was written to "
                    f"{login.path}. Delete that file and run this again to reset it."
                )
            )
