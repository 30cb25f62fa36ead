"""Without a test transaction around it, e-mail tasks run right after commit, mid-request."""

import pytest
from django.core import mail

from tests.fixtures.clients import client_for

pytestmark = pytest.mark.django_db(transaction=True)


def test_decision_api_answers_after_its_email_task_ran_in_process(submit, agent_a, parent):
    request_id = submit().json()["id"]
    response = client_for(agent_a).post(
        f"/c/commune-a/api/v1/staff/access-requests/{request_id}/decision", {"decision": "accept"}
    )
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "accepted"
    assert mail.outbox and mail.outbox[-1].to == [parent.email]
