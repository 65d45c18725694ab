import base64

from fulfillment.pins import hash_pin, verify_pin

SALT = bytes(range(16))


def test_hash_pin_has_the_documented_format() -> None:
    encoded = hash_pin("4821", SALT)
    algo, n, r, p, salt, digest = encoded.split("$")
    assert (algo, n, r, p) == ("scrypt", "16384", "8", "1")
    assert base64.b64decode(salt) == SALT
    assert len(base64.b64decode(digest)) == 32


def test_verify_pin_accepts_the_right_pin_and_refuses_a_wrong_one() -> None:
    encoded = hash_pin("4821", SALT)
    assert verify_pin("4821", encoded) is True
    assert verify_pin("4822", encoded) is False


def test_verify_pin_refuses_malformed_hashes_without_raising() -> None:
    for bad in [
        "",
        "scrypt$1$2",
        "bcrypt$16384$8$1$AA==$AA==",
        "scrypt$x$8$1$AA==$AA==",
        "scrypt$16384$8$1$%%%$AA==",
        "scrypt$3$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AA==",
    ]:
        assert verify_pin("4821", bad) is False
    assert verify_pin("4821", None) is False


def test_a_manager_pin_needs_six_digits_and_an_associate_pin_four() -> None:
    from fulfillment.pins import pin_problem

    assert pin_problem("manager", "9999") == "a manager's PIN needs at least 6 digits"
    assert pin_problem("manager", "482916") is None
    assert pin_problem("associate", "1234") is None
