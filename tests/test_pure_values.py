"""Every kind of value an admin types: what is accepted (and how it is normalised), what is
refused, and the exact words of the refusal, since the admin reads them to fix their input."""

from __future__ import annotations

import pytest

from bot.playbook import InvalidValue, check_upn, validate

GUID = "1b3f4c5d-0000-4e2f-9a8b-123456789abc"


@pytest.mark.parametrize(
    "kind, typed, kept",
    [
        ("upn", " jane.doe@contoso.com ", "jane.doe@contoso.com"),
        ("upn", "o'brien_x-y!#^~@sub.contoso.com", "o'brien_x-y!#^~@sub.contoso.com"),
        ("upn", "a" * 64 + "@" + "b" * 44 + ".com", "a" * 64 + "@" + "b" * 44 + ".com"),  # 64 + 1 + 48 = 113
        ("email", "jane+tag&co=1$%*/?`{|}@contoso.com", "jane+tag&co=1$%*/?`{|}@contoso.com"),
        ("guid", "{1B3F4C5D-0000-4E2F-9A8B-123456789ABC}", GUID),
        ("guid", GUID, GUID),
        ("text", "x" * 256, "x" * 256),
        ("text", " Zoë 山田 ", "Zoë 山田"),
        ("alias", "j.smith-2_x", "j.smith-2_x"),
        ("label", "Contoso-EU", "contoso-eu"),
        ("country", "us", "US"),
        ("account_sku", "contoso:ENTERPRISEPACK", "contoso:ENTERPRISEPACK"),
        ("dn", "OU=Users,DC=contoso,DC=com", "OU=Users,DC=contoso,DC=com"),
        # proxy addresses as `-join ';'` prints them: blanks and empty entries dropped, order kept
        (
            "proxy_addresses",
            " smtp:j@fabrikam.com ; SMTP:jane@contoso.com;;X500:/o=Org/cn=jane ;",
            "smtp:j@fabrikam.com;SMTP:jane@contoso.com;X500:/o=Org/cn=jane",
        ),
        ("proxy_addresses", "SMTP:jane@contoso.com", "SMTP:jane@contoso.com"),
        ("hex", "00000000a1b2C3D4", "00000000a1b2C3D4"),
        ("sam", " jsmith ", "jsmith"),
        ("sam", "j.smith-2_x$", "j.smith-2_x$"),
        ("sam", "a" * 20, "a" * 20),
    ],
)
def test_valid_values_are_kept_trimmed_and_normalised(kind, typed, kept):
    assert validate(kind, typed, "value") == kept


@pytest.mark.parametrize(
    "kind, typed, message",
    [
        ("upn", "", "The UPN is empty."),
        (
            "upn",
            "a" * 65 + "@" + "b" * 43 + ".com",
            "The part of the UPN before the @ is 65 characters long; at most 64 are allowed.",
        ),
        ("upn", "a" * 60 + "@" + "b" * 50 + ".com", "The UPN is 115 characters long; at most 113 are allowed."),
        ("upn", "a" * 10_001, "The UPN is 10,001 characters long; it can have at most 10000."),
        ("upn", "@contoso.com", "The UPN has nothing before the @."),
        ("upn", "jane@", "The UPN has nothing after the @."),
        ("upn", "jane@" + "b" * 45 + ".com", "The domain of the UPN is 49 characters long; at most 48 are allowed."),
        (
            "upn",
            "jane.@contoso.com",
            "The part of the UPN before the @ cannot start or end with a dot or have two dots in a row.",
        ),
        ("upn", "jane+x@contoso.com", "The UPN contains + (U+002B, plus sign), which a UPN cannot contain."),
        ("upn", "jane@contoso", "The domain of the UPN (contoso) needs a dot, as in contoso.com."),
        ("upn", "jane@-contoso.com", "The domain of the UPN has an empty part or a part that starts or ends with a hyphen."),
        ("upn", "jane@contoso..com", "The domain of the UPN has an empty part or a part that starts or ends with a hyphen."),
        (
            "upn",
            "jane@con_toso.com",
            "The domain of the UPN contains _ (U+005F, low line); use letters, digits, hyphens and dots.",
        ),
        ("upn", "jane@mail.contoso.c0m", "The domain of the UPN must end in a name such as .com, not 'c0m'."),
        ("email", "jane@", "The mail address has nothing after the @."),
        ("email", "jane doe@contoso.com", "The mail address contains (U+0020, space), which a mail address cannot contain."),
        ("guid", " ", "The value is empty."),
        ("guid", "{" + GUID + "}X", "The value must be a GUID such as 1b3f4c5d-0000-4e2f-9a8b-123456789abc."),
        ("guid", "a" * 101, "The value is 101 characters long; it can have at most 100."),
        ("text", "x" * 257, "The value is 257 characters long; it can have at most 256."),
        ("text", "a\u0007b", "The value contains (U+0007, a control character), which is not allowed."),
        ("text", "a\u200bb", "The value contains (U+200B, zero width space), which is not allowed."),
        ("text", "a\u202eb", "The value contains (U+202E, right-to-left override), which is not allowed."),
        ("text", "a\u2028b", "The value contains (U+2028, line separator), which is not allowed."),
        ("text", "a\u2029b", "The value contains (U+2029, paragraph separator), which is not allowed."),
        ("alias", "j smith", "The value is not valid; it looks like jsmith (letters, digits and . - _, at most 64)."),
        ("alias", "a" * 1_001, "The value is 1,001 characters long; it can have at most 1000."),
        ("alias", "", "The value is empty."),
        ("label", "-contoso", "The value is not valid; it looks like contoso (lower-case letters, digits and hyphens)."),
        ("country", "USA", "The value is not valid; it looks like US (two letters)."),
        ("account_sku", "ENTERPRISEPACK", "The value is not valid; it looks like contoso:ENTERPRISEPACK."),
        ("dn", "Users", "The value must be a distinguished name such as OU=Users,DC=contoso,DC=com."),
        ("dn", "", "The value is empty."),
        ("dn", "OU=" + "x" * 1022, "The value is 1,025 characters long; it can have at most 1024."),
        ("proxy_addresses", " ", "The value is empty."),
        ("proxy_addresses", " ; ", "The value must include the primary address, written SMTP: in capitals."),
        (
            "proxy_addresses",
            "SMTP:jane@contoso.com;jane@contoso.com",
            "The value must be addresses separated by ';', each with its prefix, such as SMTP:jane@contoso.com;"
            " 'jane@contoso.com' is not.",
        ),
        (
            "proxy_addresses",
            "SMTP:jane@contoso.com;X500: /o=Org",
            "The value must be addresses separated by ';', each with its prefix, such as SMTP:jane@contoso.com;"
            " 'X500: /o=Org' is not.",
        ),
        (
            "proxy_addresses",
            "SMTP:a@b.com;" + "x" * 100,  # the refusal quotes the first 60 characters of the bad entry
            "The value must be addresses separated by ';', each with its prefix, such as SMTP:jane@contoso.com;"
            " '" + "x" * 60 + "' is not.",
        ),
        (
            "proxy_addresses",
            "smtp:jane@contoso.com;X500:/o=Org",
            "The value must include the primary address, written SMTP: in capitals.",
        ),
        ("proxy_addresses", "SMTP:" + "x" * 7996, "The value is 8,001 characters long; it can have at most 8000."),
        ("sam", " ", "The value is empty."),
        ("sam", "a" * 1_001, "The value is 1,001 characters long; it can have at most 1000."),
        ("sam", "a" * 21, "The value is 21 characters long; a sAMAccountName can have at most 20."),
        ("sam", "jsmith@contoso", "The value contains @ (U+0040, commercial at), which a sAMAccountName cannot contain."),
        ("sam", "j/s;mith", "The value contains / (U+002F, solidus), which a sAMAccountName cannot contain."),
        ("sam", "jsmith.", "The value cannot end with a dot."),
    ],
)
def test_refusals_say_exactly_what_is_wrong(kind, typed, message):
    what = {"upn": "UPN", "email": "mail address"}.get(kind, "value")
    with pytest.raises(InvalidValue) as refused:
        validate(kind, typed, what)
    assert str(refused.value) == message


def test_check_upn_calls_it_a_upn_unless_told_otherwise():
    with pytest.raises(InvalidValue, match=r"^The UPN must contain exactly one @"):
        check_upn("jane")
    with pytest.raises(InvalidValue, match=r"^The sign-in name must contain exactly one @"):
        check_upn("jane", "sign-in name")


def test_a_value_that_is_not_text_is_refused_by_name():
    for not_text in (None, 42, ["jane@contoso.com"]):
        with pytest.raises(InvalidValue) as refused:
            validate("upn", not_text, "UPN")
        assert str(refused.value) == "The UPN must be text."
