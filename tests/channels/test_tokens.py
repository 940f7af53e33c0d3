"""The fast token signer must make exactly the tokens Django's Signer makes (and reads)."""

import pytest
from django.core import signing
from django.test import override_settings

from channels.tracking import tokens

VALUES = [
    (1, tokens.OPEN_SALT, False),
    (987654321, tokens.UNSUBSCRIBE_SALT, False),
    (
        [42, "https://shop.example/p/1?utm_source=kaskad&utm_medium=email&x=" + "a" * 200],
        tokens.CLICK_SALT,
        True,
    ),
    ([42, "https://x.ru/"], tokens.CLICK_SALT, True),
    ([7, "https://пример.рф/путь?q=ё"], tokens.CLICK_SALT, True),
]


@pytest.mark.parametrize(("value", "salt", "compress"), VALUES)
def test_fast_signer_matches_django(value, salt, compress):
    expected = signing.Signer(salt=salt).sign_object(value, compress=compress)
    assert tokens._sign(value, salt, compress=compress) == expected  # identical, short or long
    assert (
        signing.Signer(salt=salt).unsign_object(tokens._sign(value, salt, compress=compress))
        == value
    )


def test_a_new_secret_key_signs_with_the_new_key():
    before = tokens.open_token(5)
    with override_settings(SECRET_KEY="another-secret-key-for-this-test-only-0123456789"):
        after = tokens.open_token(5)
        assert tokens.open_token_read(after) == 5
    assert before != after
