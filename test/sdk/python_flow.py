"""The official Python SDK, unchanged, through every admin method it has for certgate's resources.

Run by test/api/python-sdk.test.ts against a real `certgate serve`. The SDK reads OPENAI_BASE_URL and
OPENAI_ADMIN_KEY itself; CERTGATE_TEST_CAS names PEM files of three fresh CA certificates (made at test time).
Any failed check raises, so the exit status says it all; the last line counts the checks.
"""
import os
import sys

import openai
from openai import OpenAI

checks = 0


def check(condition, what):
    global checks
    if not condition:
        raise AssertionError(what)
    checks += 1


def refused(call, error, code=None):
    try:
        call()
    except error as err:
        check(code is None or getattr(err, "code", None) == code, f"{error.__name__} with code {code}, got {getattr(err, 'code', None)}")
        return
    raise AssertionError(f"expected {error.__name__}")


pems = [open(path).read() for path in os.environ["CERTGATE_TEST_CAS"].split(os.pathsep)]
client = OpenAI(max_retries=0)
org = client.admin.organization

# certificates of the organization: create, retrieve, update, list, activate, deactivate, delete
first = org.certificates.create(certificate=pems[0], name="Python CA")
check(first.object == "certificate" and first.id.startswith("cert_") and first.name == "Python CA", first)
second = org.certificates.create(certificate=pems[1])
check(second.name is None, second)
check(org.certificates.retrieve(first.id).id == first.id, "retrieve")
check(org.certificates.retrieve(first.id, include=["content"]).certificate_details.content == pems[0], "retrieve with content")
check(org.certificates.update(first.id, name="Python CA renamed").name == "Python CA renamed", "update")
listed = [c.id for c in org.certificates.list(limit=1, order="asc")]
check(listed == [first.id, second.id], f"list pages in order: {listed}")
activated = list(org.certificates.activate(certificate_ids=[first.id, second.id]))
check([(c.id, c.active) for c in activated] == [(first.id, True), (second.id, True)], activated)
check(all(c.active for c in org.certificates.list()), "listed as active")
refused(lambda: org.certificates.delete(first.id), openai.BadRequestError, "certificate_in_use")
deactivated = list(org.certificates.deactivate(certificate_ids=[second.id]))
check([(c.id, c.active) for c in deactivated] == [(second.id, False)], deactivated)
org.certificates.deactivate(certificate_ids=[first.id])
refused(lambda: org.certificates.retrieve("cert_nope"), openai.NotFoundError, "certificate_not_found")

# projects: create, retrieve, update, list, and their certificates
project = org.projects.create(name="python project")
check(project.id.startswith("proj_") and project.status == "active", project)
check(org.projects.retrieve(project.id).name == "python project", "project retrieve")
check(org.projects.update(project.id, name="python project 2").name == "python project 2", "project update")
check(project.id in [p.id for p in org.projects.list(limit=1)], "project list")
in_project = list(org.projects.certificates.activate(project.id, certificate_ids=[first.id]))
check([(c.id, c.active, c.object) for c in in_project] == [(first.id, True, "organization.project.certificate")], in_project)
states = {c.id: c.active for c in org.projects.certificates.list(project.id, limit=1)}
check(states == {first.id: True, second.id: False}, states)
check(not any(c.active for c in org.certificates.list()), "a project's activation is not the organization's")
off = list(org.projects.certificates.deactivate(project.id, certificate_ids=[first.id]))
check([c.active for c in off] == [False], off)

# service accounts: create, retrieve, update, list, delete
account = org.projects.service_accounts.create(project.id, name="python bot")
check(account.id.startswith("svc_acct_") and account.api_key.value.startswith("sk-svcacct-"), "service account with its key")
check(org.projects.service_accounts.retrieve(account.id, project_id=project.id).name == "python bot", "service account retrieve")
check(org.projects.service_accounts.update(account.id, project_id=project.id, name="python bot 2").name == "python bot 2", "service account update")
check([a.id for a in org.projects.service_accounts.list(project.id, limit=1)] == [account.id], "service account list")
gone = org.projects.service_accounts.delete(account.id, project_id=project.id)
check(gone.deleted is True and gone.id == account.id, gone)
refused(lambda: org.projects.service_accounts.retrieve(account.id, project_id=project.id), openai.NotFoundError)

# admin API keys: create, retrieve, list, delete; the deleted key stops working
key = org.admin_api_keys.create(name="python key")
check(key.value.startswith("sk-admin-"), "admin key value shown once")
check(org.admin_api_keys.retrieve(key.id).name == "python key", "admin key retrieve")
check(key.id in [k.id for k in org.admin_api_keys.list(limit=1)], "admin key list")
other = OpenAI(admin_api_key=key.value, max_retries=0)
check(len(list(other.admin.organization.certificates.list())) == 2, "the new key works")
deleted_key = org.admin_api_keys.delete(key.id)
check(deleted_key.deleted is True and deleted_key.id == key.id, deleted_key)
refused(lambda: other.admin.organization.certificates.list(), openai.AuthenticationError, "invalid_api_key")

# certificates deleted, the project archived
for cert in (first, second):
    removed = org.certificates.delete(cert.id)
    check(removed.id == cert.id and removed.object == "certificate.deleted", removed)
refused(lambda: org.certificates.retrieve(first.id), openai.NotFoundError)
archived = org.projects.archive(project.id)
check(archived.status == "archived", archived)
check(project.id not in [p.id for p in org.projects.list()], "archived projects are hidden")
check(project.id in [p.id for p in org.projects.list(include_archived=True)], "and listed on request")

# the audit log: every change above, newest first, filtered and paged
types = [e.type for e in org.audit_logs.list(limit=2)]
check(types[:2] == ["project.archived", "certificate.deleted"], types[:5])
for kind in ("certificate.created", "certificate.updated", "certificate.deleted", "certificates.activated",
             "certificates.deactivated", "project.created", "project.updated", "project.archived",
             "service_account.created", "service_account.updated", "service_account.deleted",
             "api_key.created", "api_key.deleted"):
    check(kind in types, f"{kind} in the audit log")
deletions = [e for e in org.audit_logs.list(event_types=["certificate.deleted"])]
check(sorted(e.certificate_deleted.id for e in deletions) == sorted([first.id, second.id]), "certificate.deleted events")
about_key = [e.type for e in org.audit_logs.list(resource_ids=[key.id])]
check(about_key == ["api_key.deleted", "api_key.created"], about_key)

print(f"python sdk {openai.__version__}: {checks} checks passed")
sys.exit(0)
