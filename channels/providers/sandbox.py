"""The sandbox: keeps what would have been sent, per channel, in SandboxMessage (see the admin).

It is what `make run` uses (MESSAGING_SANDBOX defaults to DEBUG), so the demo sends without any
gateway account. Production never defaults to it.
"""

from channels.models import Message, SandboxMessage
from channels.providers.base import Provider, SendResult


class SandboxProvider(Provider):
    name = "sandbox"
    channel = "*"

    def send(self, message: Message) -> SendResult:
        copy = SandboxMessage.objects.create(
            message=message,
            channel=message.channel,
            address=message.address,
            subject=message.subject,
            body=message.body,
            payload={**message.payload, **({"html": message.html} if message.html else {})},
        )
        return SendResult(provider_message_id=f"sandbox-{copy.pk}")
