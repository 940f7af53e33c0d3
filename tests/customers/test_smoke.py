def test_batch_creates_customers_then_replay_changes_nothing(api):
    body = {"items": [{"external_id": "c1", "email": "A@B.ru"}]}
    first = api.post("/api/v1/customers/batch", body)
    second = api.post("/api/v1/customers/batch", body)
    assert first.json() == {"created": 1, "updated": 0, "unchanged": 0, "customers_created": []}
    assert second.json()["unchanged"] == 1
