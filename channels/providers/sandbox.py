"""The sandbox: keeps what would have been sent, per channel, in SandboxMessage (see the admin).

It is what `make run` uses (MESSAGING_SANDBOX defaults to DEBUG), so the demo sends without any
gateway account. Production never defaults to it.
"""

from collections.abc import Iterable

from channels.models import Message, SandboxMessage
from channels.providers.base import Provider, SendOutcome, SendResult


class SandboxProvider(Provider):
    name = "sandbox"
    channel = "*"

    def send(self, message: Message) -> SendResult:
        (outcome,) = self.send_many([message])
        return outcome.result

    def send_many(self, messages: Iterable[Message]) -> list[SendOutcome]:
        """A batch is kept with one insert."""
        copies = SandboxMessage.objects.bulk_create(
            SandboxMessage(
                message=message,
                channel=message.channel,
                address=message.address,
                subject=message.subject,
                body=message.body,
                payload={**message.payload, **({"html": message.html} if message.html else {})},
            )
            for message in messages
        )
        return [
            SendOutcome(
                copy.message_id, result=SendResult(provider_message_id=f"sandbox-{copy.pk}")
            )
            for copy in copies
        ]
