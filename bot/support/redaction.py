"""Redaction: anything that looks like a secret (a password said in words, a token, a key, a
connection string, a PEM block) is replaced before text is stored, shown to support or logged.

Each line is screened first for the words the patterns need (casefolded, with the Turkish dotted
and dotless i), so ordinary lines skip the patterns; `redact_every_pattern` is the reference the
tests compare the screen with.
"""

from __future__ import annotations

import re

# Built once at import: redact runs on every transcript line of every turn.
# A quoted phrase goes whole. Its run is bounded: a pattern tried at each of many openings of a
# quote that never closes ("password: “" ten thousand times) would otherwise scan to the end of
# the line from every one of them, quadratic in the line (3 s on 100 KB). The cut before the
# patterns (transcripts and ticket fields are bounded first) stays; this keeps each try short.
# The closing quote is optional: a quote that never closes, or runs past the bound, still has
# its first MAX_QUOTED characters redacted rather than none.
MAX_QUOTED = 256
_QUOTED = (
    rf"""(?:"[^"\n]{{0,{MAX_QUOTED}}}"?|'[^'\n]{{0,{MAX_QUOTED}}}'?|“[^”\n]{{0,{MAX_QUOTED}}}”?|‘[^’\n]{{0,{MAX_QUOTED}}}’?)"""
)
_WORD = r"""[^\s'"“”‘’]+"""
_PASSWORD = r"(?:password|passwort|passwd|passphrase|passcode|kennwort|contrase[ñn]a|mot de passe|pwd|pw)"
_PASSWORD_OR_PASS = rf"(?:{_PASSWORD}|pass)"
_FOR_WHOM = r"(?:\s+(?:for|of)\s+[^\s:=]+)?"  # "the password for bob is ..."
# "the password is expired" is about a password, not one: these words after "is"/"was" stay.
_NOT_A_VALUE = (
    r"(?:expired|reset|changed|wrong|incorrect|invalid|valid|required|needed|missing|unknown|not|being|still|set|"
    r"the|a|an|too|empty|blank|locked|also|correct|weak|strong|different|same|in|on|for|synced|stored)\b"
)
# "is", "was set to", "is:", and the same in the languages admins paste (est, ist, lautet, es)
_IS = r"(?:(?:is|was|will be|est|ist|lautet|es)(?:\s+(?:set|changed|reset)\s+to)?|(?:set|changed|reset) to):?"
# Bare "password X": only when X looks like a secret (a digit or a symbol), so "password hash sync" stays.
_SECRET_LIKE = r"(?=[^\s'\"]*[0-9!@#$%^&*~+=<>/\\|{}\[\]])[^\s'\"]+"
_KEY_NAME = (
    r"(?:client[ _-]?secret|secret|x-api-key|apikey|"
    r"(?:api|access|account|shared[ _-]?access|subscription|primary|secondary|storage|secret|private|sas)[ _-]?key|"
    r"(?:access|refresh|id|auth|sas|session)[ _-]?token|token|shared[ _-]?access[ _-]?signature|sig)"
)
_SECRETS = [
    # Private keys pasted whole (PEM)
    (
        re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)", re.DOTALL),
        "[redacted private key]",
    ),
    # JWTs, bearer tokens and HTTP Basic credentials
    (re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*"), "[redacted token]"),
    (re.compile(r"(?i)\b(bearer)\s+[A-Za-z0-9._~+/=-]{16,}"), r"\1 [redacted token]"),
    # (base64 has capitals or digits: "basic authentication" stays)
    (re.compile(r"(?i)\b(basic)\s+(?-i:(?=[A-Za-z0-9+/]*[A-Z0-9+/]))[A-Za-z0-9+/]{8,}={0,2}"), r"\1 [redacted]"),
    # A literal assigned to a PowerShell variable named like a secret: $password = 'x' (a $variable
    # on the right-hand side is no secret and stays)
    (re.compile(rf"(?i)(\$\w*(?:pass|pw|pwd|secret|key|token|cred)\w*\s*=\s*)(?:{_QUOTED})"), r"\1[redacted]"),
    # ConvertTo-SecureString -AsPlainText 'x' -Force: the literal, wherever its switches stand
    (re.compile(rf"(?i)(\bConvertTo-SecureString(?:\s+-\w+)*\s+)(?:{_QUOTED})"), r"\1[redacted]"),
    # Temporary Access Pass (Entra): "TAP is X", "Temporary Access Pass: X"
    (
        re.compile(
            rf"(?i)\b((?:temporary access pass|TAP)(?:\s+(?:is|was)\s+|\s*:\s*|\s+(?=\S*\d)))"
            rf"(?!{_NOT_A_VALUE})(?:{_QUOTED}|{_WORD})"
        ),
        r"\1[redacted]",
    ),
    # PowerShell: ConvertTo-SecureString 'x', -NewPassword 'x', -ClientSecret x (never $variables or (sub-expressions))
    (re.compile(rf"(?i)(\bConvertTo-SecureString\s+(?:-String\s+)?)(?:{_QUOTED}|(?![-$(@]){_WORD})"), r"\1[redacted]"),
    (
        re.compile(
            rf"(?i)(-(?:\w*Password|ClientSecret|\w*Secret|String|\w*Token|AccountKey)\s+)(?:{_QUOTED}|(?![-$(@])[^\s;)]+)"
        ),
        r"\1[redacted]",
    ),
    # password: x / password = "x y" / "password": "x" (JSON)
    # ($pw = ... and Password = $pw are PowerShell variables, not secrets: left as written)
    (re.compile(rf"(?i)(?<!\$)\b({_PASSWORD_OR_PASS}{_FOR_WHOM}[\"']?\s*[:=]\s*)(?:{_QUOTED}|(?!\$){_WORD})"), r"\1[redacted]"),
    # the password for bob is x / temp password was x / password set to x
    (
        re.compile(rf"(?i)(?<!\$)\b({_PASSWORD}{_FOR_WHOM}\s+{_IS}\s+)(?:{_QUOTED}|(?!{_NOT_A_VALUE}){_WORD})"),
        r"\1[redacted]",
    ),
    # password Hunter2! / set the password to Hunter2!
    (re.compile(rf"(?i)(?<!\$)\b({_PASSWORD}\s+(?:to\s+)?)(?:{_QUOTED}|(?![$=:]){_SECRET_LIKE})"), r"\1[redacted]"),
    # key and token names: SharedAccessKey=..., refresh_token=..., api-key: ..., client secret is ...
    (
        re.compile(rf"(?i)\b({_KEY_NAME}[\"']?(?:\s*[:=]\s*|\s+(?:is|was)\s+(?!{_NOT_A_VALUE})))(?:{_QUOTED}|[^\s;&'\"“”‘’]+)"),
        r"\1[redacted]",
    ),
    # Entra client secrets: 34-40 chars with a ~ in them
    (re.compile(r"\b[A-Za-z0-9_.-]{3}\dQ~[A-Za-z0-9_.~-]{30,}"), "[redacted secret]"),
    # Storage account keys and connection strings
    (re.compile(r"(?i)(AccountKey|SharedAccessSignature|SharedAccessKey|sig)=[^;&\s]+"), r"\1=[redacted]"),
]


# Every pattern above needs one of these words (in any case) in what it matches (a PEM key has
# "key"). Most lines (the bot's own cards, "done", a UPN) hold none of them, and one casefold plus
# a few substring tests costs a fraction of the patterns' scans; a line that holds one still gets
# every pattern.
_TRIGGERS = (
    "eyj", "bearer", "basic", "pass", "pw", "secret", "key", "token", "cred",
    "convertto", "-string", "tap", "kennwort", "contrase", "sig", "q~",
)  # fmt: skip
# IGNORECASE also matches four non-ASCII letters to ASCII ones: casefold() maps the Kelvin sign
# and the long s; the Turkish dotted and dotless i need this (İ casefolds to i and a combining dot).
_TURKISH_I = str.maketrans({"ı": "i", "\u0307": None})


def redact(text: str) -> str:
    folded = text.casefold()
    if not folded.isascii():
        folded = folded.translate(_TURKISH_I)
    if not any(trigger in folded for trigger in _TRIGGERS):
        return text
    return redact_every_pattern(text)


def redact_every_pattern(text: str) -> str:
    for pattern, replacement in _SECRETS:
        text = pattern.sub(replacement, text)
    return text
