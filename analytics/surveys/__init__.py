"""Surveys (issue 13, points 1–3): NPS, CSAT and CES definitions, sending them on any channel,
and the answers. Modules: `presets` (the texts), `definitions` (create, update), `sending`
(`survey_send_many`), `replies` (chat answers through channels' inbound pipeline), `answers`
(`survey_answer_record`: the event, the detractor's conversation), `tokens` and the public pages.
"""
