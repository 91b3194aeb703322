"""Microsoft Graph detection, against a token endpoint and a Graph endpoint served on loopback over
HTTPS with a certificate made here, speaking the real wire formats; msal pointed at them."""

from __future__ import annotations

import pytest
import pytest_asyncio

from bot.integrations.graph import GraphClient, GraphUnavailable, RoleCheck
from tests.conftest import RunningBot
from tests.graph_standin import ADMIN_ID, JANE_ID, UPN, with_graph
from tests.harness import Admin, cards_of, joined


@pytest_asyncio.fixture
async def graph(microsoft):
    client = GraphClient(microsoft.settings)
    yield client
    await client.close()


async def test_present_synced_user(graph, microsoft):
    finding = await graph.entra_state(UPN)
    assert (finding.state, finding.object_id, finding.synced, finding.licensed) == ("present", JANE_ID, True, True)


async def test_soft_deleted_user_found_across_pages_with_days_left(graph, microsoft):
    microsoft.user_mode = "deleted"
    finding = await graph.entra_state(UPN)
    assert finding.state == "soft_deleted" and finding.object_id == JANE_ID
    assert finding.days_left == 26
    assert microsoft.consistency_headers == ["eventual", "eventual"]  # two pages, both with the header


async def test_another_deleted_user_whose_upn_ends_the_same_is_not_taken_for_this_one(graph, microsoft):
    microsoft.user_mode = "another_deleted"
    assert (await graph.entra_state(UPN)).state == "not_found"


async def test_not_found_anywhere(graph, microsoft):
    microsoft.user_mode = "gone"
    assert (await graph.entra_state(UPN)).state == "not_found"


async def test_forbidden_and_slow_say_why(graph, microsoft):
    microsoft.user_mode = "forbidden"
    with pytest.raises(GraphUnavailable, match=r"lacks the User\.Read\.All application permission"):
        await graph.entra_state(UPN)
    microsoft.user_mode = "slow"
    with pytest.raises(GraphUnavailable, match="did not answer in time"):
        await graph.entra_state(UPN)


async def test_the_token_is_reused_across_calls(graph, microsoft):
    for _ in range(3):
        await graph.entra_state(UPN)
    assert microsoft.token_requests == 1


async def test_role_check_allows_admins_and_refuses_others(graph, microsoft):
    check = RoleCheck(graph)
    assert await check.allowed(ADMIN_ID) == (True, "")
    microsoft.roles = ["f2ef992c-3afb-46b9-b7cf-a126ee74c451"]  # Global Reader: not enough
    allowed, why = await RoleCheck(graph).allowed(ADMIN_ID)
    assert not allowed and "Exchange Administrators" in why


@pytest_asyncio.fixture
async def graph_bot(settings, microsoft):
    async with RunningBot(with_graph(settings, microsoft, graph_require_admin_role=True)) as running:
        yield running


async def test_the_admin_only_confirms_what_graph_found(graph_bot, connector, microsoft):
    microsoft.user_mode = "deleted"
    admin = Admin(graph_bot.url, connector, aad_object_id=ADMIN_ID)
    await admin.say("start")
    records = await admin.say(UPN)
    text = joined(records)
    assert "the Entra account is soft-deleted" in text and "26 days left in the recycle bin" in text
    onprem = cards_of(records)[-1]
    assert "synchronized from on-premises AD" in joined(records) and onprem["actions"][0]["title"] == "Deleted"
    records = await admin.press("Present (synced)")
    entra = cards_of(records)[-1]
    assert entra["actions"][0]["title"] == "Confirm: Soft-deleted"
    assert "From Microsoft Graph, checked" in joined(records)
    await admin.press("Confirm: Soft-deleted")
    status = joined(await admin.say("status"))
    assert "Entra ID (Azure AD) account: Soft-deleted (confirmed from Microsoft Graph)" in status
    await admin.close()


async def test_graph_failure_falls_back_to_asking_and_recheck_tries_again(graph_bot, connector, microsoft):
    microsoft.user_mode = "forbidden"
    admin = Admin(graph_bot.url, connector, aad_object_id=ADMIN_ID)
    await admin.say("start")
    records = await admin.say(UPN)
    assert "I could not check Microsoft Graph: the app lacks the User.Read.All application permission" in joined(records)
    assert all(not a["title"].startswith("Confirm") for a in cards_of(records)[-1]["actions"])
    microsoft.user_mode = "present"
    records = await admin.say("recheck")
    assert "the Entra account is present" in joined(records)
    assert "It has licenses." in joined(records)
    await admin.close()


async def test_an_admins_role_is_checked_once_not_on_every_turn(graph_bot, connector, microsoft):
    admin = Admin(graph_bot.url, connector, aad_object_id=ADMIN_ID)
    await admin.say("help")
    await admin.say("cases")
    await admin.say("help")
    assert microsoft.role_requests == 1  # kept for ten minutes: Graph is asked once, not per turn
    await admin.close()


async def test_users_without_an_admin_role_are_told_why(graph_bot, connector, microsoft):
    microsoft.roles = []
    outsider = Admin(graph_bot.url, connector)
    records = await outsider.say("start")
    assert "Microsoft Graph shows you hold none of these roles" in joined(records)
    await outsider.close()


async def test_group_allow_list_checks_nested_membership(graph, microsoft):
    group = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"
    microsoft.groups = {group}
    assert await RoleCheck(graph, require_role=False, group_id=group).allowed(ADMIN_ID) == (True, "")
    microsoft.groups = set()
    allowed, why = await RoleCheck(graph, require_role=False, group_id=group).allowed(ADMIN_ID)
    assert not allowed and "not in the group allowed to use it" in why
