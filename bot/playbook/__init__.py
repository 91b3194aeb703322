"""The recovery playbook: data, loading and checking, command rendering. Plain Python only."""

from bot.playbook.loader import DEFAULT_PATH, PlaybookError, load_playbook
from bot.playbook.model import DIALECTS, OUTCOMES, Leaf, Option, Playbook, Question, Step
from bot.playbook.render import RenderedBlock, render_blocks, render_commands, render_text
from bot.playbook.values import InvalidValue, check_upn, ps_quote, validate

__all__ = [
    "DEFAULT_PATH",
    "DIALECTS",
    "OUTCOMES",
    "InvalidValue",
    "Leaf",
    "Option",
    "Playbook",
    "PlaybookError",
    "Question",
    "RenderedBlock",
    "Step",
    "check_upn",
    "load_playbook",
    "ps_quote",
    "render_blocks",
    "render_commands",
    "render_text",
    "validate",
]
