"""Shared by the broadcast tests: run the chunk tasks a launch published, as a worker would."""

from campaigns.broadcasts.services.sending import broadcast_chunk_send


def run_chunks(calls: list) -> int:
    taken = 0
    while calls:
        taken += broadcast_chunk_send(*calls.pop(0))
    return taken
