"""A 200-step journey for the pages benchmark: the builder must lay it out, draw it and check it
(every step against its template) in the page's time."""

BLOCKS = (
    40  # five steps each: send → wait for an open (else a reminder looping back) → branch → action
)
NAME = "Bench: 200 steps"


def _send(step_id: str, template_id: int, nxt: str | None) -> dict:
    return {
        "id": step_id,
        "type": "send",
        "template_id": template_id,
        "channel": "email",
        "on_unreachable": "continue",
        "next": nxt,
    }


def large_definition(template_id: int, blocks: int = BLOCKS) -> dict:
    steps: list[dict] = []
    for b in range(blocks):
        nxt = f"s{b + 1}" if b + 1 < blocks else "end"
        steps += [
            _send(f"s{b}", template_id, f"w{b}"),
            {
                "id": f"w{b}",
                "type": "wait",
                "mode": "outcomes",
                "outcomes": [{"name": "opened", "kind": "message", "next": f"b{b}"}],
                "timeout_seconds": 86400,
                "timeout_next": f"r{b}",
            },
            {**_send(f"r{b}", template_id, f"w{b}"), "max_visits": 2},
            {
                "id": f"b{b}",
                "type": "branch",
                "cases": [
                    {
                        "name": "big",
                        "condition": {
                            "kind": "entry",
                            "property": "total",
                            "op": "gt",
                            "value": 100,
                        },
                        "next": f"a{b}",
                    }
                ],
                "default_next": nxt,
            },
            {"id": f"a{b}", "type": "action", "action": "webhook", "next": nxt},
        ]
    steps.append({"id": "end", "type": "exit"})
    return {"trigger": {"kind": "api"}, "start": "s0", "steps": steps}


def large_journey_id() -> int:
    """The benchmark's 200-step journey (a draft), made once and kept with the data."""
    from campaigns.journeys.models import Journey
    from campaigns.journeys.services.authoring import journey_create
    from campaigns.message_templates.models import Template
    from campaigns.message_templates.services import template_create

    found = Journey.objects.filter(name=NAME).values_list("pk", flat=True).first()
    if found:
        return found
    template = Template.objects.filter(name=NAME).first() or template_create(
        name=NAME,
        category="marketing",
        variants={"email": {"subject": "Hello", "html": "<p>Hello {{ customer.first_name }}</p>"}},
    )
    return journey_create(name=NAME, definition=large_definition(template.pk)).pk
